import type { Actor } from './actor.js'
import { authorize } from './authorize.js'
import { AccessError } from './errors.js'
import type { Permission } from './permissions.js'
import { resolveActor } from './store.js'

/** The answer a host channel (an admin socket, a server start) gives a caller. */
export type AccessCheck =
  | { ok: true; actor: Actor }
  | {
      ok: false
      status: 401 | 403
      code: 'authentication_required' | 'invalid_token' | 'forbidden'
      message: string
    }

/** Said to a caller without a token once users exist: the variable every Aegis host reads it from. */
export const AUTHENTICATION_REQUIRED = 'Authentication required (set AEGIS_USER_TOKEN)'

/**
 * Authenticates `token` against the user store at `file` and authorises `permission`, in one call
 * for channels that are not the CLI's command table (the gate's admin socket, `aegis-mcp-server`):
 * 401 without a token or with one nobody holds, 403 naming role and permission. Bootstrap (no user
 * was ever added) allows everything, as for the CLI. Other failures (a damaged store) throw.
 */
export function checkAccess(options: {
  file: string
  token: string | undefined
  permission: Permission
}): AccessCheck {
  let actor: Actor
  try {
    actor = resolveActor({ file: options.file, token: options.token?.trim() || undefined })
  } catch (error) {
    if (error instanceof AccessError && error.code === 'authentication_required') {
      return { ok: false, status: 401, code: error.code, message: AUTHENTICATION_REQUIRED }
    }
    if (error instanceof AccessError && error.code === 'invalid_token') {
      return { ok: false, status: 401, code: error.code, message: error.message }
    }
    throw error
  }
  const decision = authorize(actor, options.permission)
  return decision.allowed
    ? { ok: true, actor }
    : { ok: false, status: 403, code: 'forbidden', message: decision.reason }
}
