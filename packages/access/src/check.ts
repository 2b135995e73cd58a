import { dirname } from 'node:path'
import type { Actor } from './actor.js'
import { authorize } from './authorize.js'
import { guardBootstrap, type RbacRecord } from './bootstrap-guard.js'
import { AccessError } from './errors.js'
import type { Permission } from './permissions.js'
import { resolveActor } from './store.js'
import type { UserStore } from './user-store.js'

/** The answer a host channel (an admin socket, a server start) gives a caller. */
export type AccessCheck =
  | { ok: true; actor: Actor }
  | {
      ok: false
      status: 401 | 403
      code: 'authentication_required' | 'invalid_token' | 'forbidden' | 'users_lost'
      message: string
    }

/** Said to a caller without a token once users exist: the variable every Aegis host reads it from. */
export const AUTHENTICATION_REQUIRED = 'Authentication required (set AEGIS_USER_TOKEN)'

/**
 * Authenticates `token` against the user store at `file` and authorises `permission`, in one call
 * for channels that are not the CLI's command table (the gate's admin socket, `aegis-mcp-server`):
 * 401 without a token or with one nobody holds, 403 naming role and permission. Bootstrap (no user
 * was ever added) allows everything, as for the CLI — unless `rbacSince` says RBAC was turned on
 * (access.db was deleted or emptied since): then 403 `users_lost`. Other failures (a damaged
 * store) throw.
 */
export function checkAccess(options: {
  file: string
  token: string | undefined
  permission: Permission
  /** What the host's vault says about RBAC (see `guardBootstrap`); without it bootstrap is trusted. */
  rbacSince?: RbacRecord
}): AccessCheck {
  let actor: Actor
  try {
    actor = resolveActor({ file: options.file, token: normalised(options.token) })
    actor = guardBootstrap(actor, options.rbacSince, dirname(options.file))
  } catch (error) {
    return refused(error)
  }
  return decide(actor, options.permission)
}

/**
 * `checkAccess` over a `UserStore` of either engine (the PostgreSQL users a gate shares with
 * others): the same answers, the same words.
 */
export async function checkUserAccess(
  store: UserStore,
  options: { token: string | undefined; permission: Permission },
): Promise<AccessCheck> {
  let actor: Actor
  try {
    actor = await store.resolveActor(normalised(options.token))
  } catch (error) {
    return refused(error)
  }
  return decide(actor, options.permission)
}

function normalised(token: string | undefined): string | undefined {
  return token?.trim() || undefined
}

/** A failed authentication as 401; anything else (a damaged store, a lost connection) is thrown. */
function refused(error: unknown): AccessCheck {
  if (error instanceof AccessError && error.code === 'authentication_required') {
    return { ok: false, status: 401, code: error.code, message: AUTHENTICATION_REQUIRED }
  }
  if (error instanceof AccessError && error.code === 'users_lost') {
    return { ok: false, status: 403, code: error.code, message: error.message }
  }
  if (error instanceof AccessError && error.code === 'invalid_token') {
    return { ok: false, status: 401, code: error.code, message: error.message }
  }
  throw error
}

function decide(actor: Actor, permission: Permission): AccessCheck {
  const decision = authorize(actor, permission)
  return decision.allowed
    ? { ok: true, actor }
    : { ok: false, status: 403, code: 'forbidden', message: decision.reason }
}
