/**
 * Who a session acts as, resolved again on every request through @aegis/access (the store is read
 * each time: a user removed, demoted or re-tokened since the login loses access at once), and the
 * one permission check, `authorize`.
 */
import {
  AccessError,
  type Actor,
  authorize,
  BOOTSTRAP,
  guardBootstrap,
  PERMISSIONS,
  type Permission,
} from '@aegis/access'
import type { UserAccess } from './deps.js'
import { ApiError } from './respond.js'
import type { Principal } from './session.js'

/**
 * The actor of `token` among the users (none at all: bootstrap, unless the vault says RBAC was
 * turned on: AccessError `users_lost`); AccessError as the store throws it.
 */
export function resolveActor(users: UserAccess, token: string | undefined): Promise<Actor> {
  return users.use(async (store) =>
    store === null
      ? guardBootstrap(BOOTSTRAP, users.rbacSince, users.dataDir ?? '')
      : store.resolveActor(token),
  )
}

/** The actor of a principal, or a 401 ApiError when it no longer authenticates. */
export async function actorOf(users: UserAccess, principal: Principal): Promise<Actor> {
  try {
    return await resolveActor(users, principal.userToken)
  } catch (error) {
    if (error instanceof AccessError && error.code === 'users_lost') {
      throw new ApiError(403, 'users_lost', error.message)
    }
    if (
      error instanceof AccessError &&
      (error.code === 'authentication_required' || error.code === 'invalid_token')
    ) {
      throw new ApiError(401, 'unauthenticated', 'This session no longer authenticates: log in again')
    }
    throw error
  }
}

/** Throws 403 `forbidden` (`viewer may not user:read`) unless `actor` holds `permission`. */
export function requirePermission(actor: Actor, permission: Permission): void {
  const decision = authorize(actor, permission)
  if (!decision.allowed) throw new ApiError(403, 'forbidden', decision.reason)
}

/** Every permission `actor` holds, in the table's order (for the UI to hide what it may not do). */
export function permissionsOf(actor: Actor): Permission[] {
  return PERMISSIONS.map((p) => p.permission).filter((p) => authorize(actor, p).allowed)
}

/** `/api/me`'s actor: never an id, token or hash. */
export function actorJson(
  actor: Actor,
): { kind: 'bootstrap' } | { kind: 'user'; name: string; role: string } {
  return actor.kind === 'bootstrap'
    ? { kind: 'bootstrap' }
    : { kind: 'user', name: actor.name, role: actor.role }
}
