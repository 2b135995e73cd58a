import { hashUserToken, parseUserToken } from '@aegis/guard'
import { type Actor, BOOTSTRAP, type UserActor } from './actor.js'
import { authorize } from './authorize.js'
import { AccessError } from './errors.js'
import type { Permission } from './permissions.js'
import { isRole, type Role } from './roles.js'

/**
 * The user rules of both engines (SQLite `AccessStore`, PostgreSQL `openPgUserStore`), written
 * once: each engine reads the rows inside its write transaction and asks these functions what is
 * allowed. Messages live here so both engines refuse with the same code and the same line.
 */

/** The settings/meta key whose value (ISO 8601) ends bootstrap for good. */
export const BOOTSTRAP_KEY = 'bootstrap_completed_at'

/**
 * The refusal of a token no user holds (it fails its checksum, was mistyped, or its user was removed
 * or re-tokened since), with what it means and the way out; `source` names where the token came
 * from. Every surface (CLI, gate admin socket, aegis-mcp-server, dashboard) says it.
 */
export function invalidUserToken(source: string): string {
  return `Invalid user token: ${source} is no user's token (mistyped, or regenerated or removed since); an admin can issue a new one: aegis user regenerate-token --name <you>`
}

/** `invalidUserToken` of the token every Aegis host reads: the message of AccessError `invalid_token`. */
export const INVALID_USER_TOKEN = invalidUserToken('AEGIS_USER_TOKEN')

/** A user row as both engines hold it: times are epoch milliseconds, only the token's hash is kept. */
export interface UserRow {
  id: number
  name: string
  role: string
  createdAt: number
  updatedAt: number
  lastUsedAt?: number | null
}

/** What `listUsers` shows: never a token, its hash or its id. */
export interface UserInfo {
  name: string
  role: Role
  createdAt: string
  updatedAt: string
  /** When the user's current token was last presented, to the minute; null: never. */
  lastUsedAt: string | null
}

/**
 * A token's last use is recorded at most once per this interval per user (a presentation within a
 * minute of the recorded one writes nothing): `user list` shows it to the minute, and a burst of
 * commands, dashboard calls or admin-socket calls is one write, not one each.
 */
export const LAST_USE_RESOLUTION_MS = 60_000

/** Whether a use at `now` should be written, the last one recorded being `lastUsedAt`. */
export function lastUseStale(lastUsedAt: number | null | undefined, now: number): boolean {
  return lastUsedAt == null || now - Number(lastUsedAt) >= LAST_USE_RESOLUTION_MS
}

/** A user with the token just issued: show it once, it is not stored. */
export interface IssuedToken {
  name: string
  role: Role
  token: string
}

/**
 * Shows or saves a token just issued, inside the transaction that issues it (before COMMIT): when it
 * throws or rejects, nothing is committed.
 */
export type DeliverToken = (issued: IssuedToken) => void | Promise<void>

export function checkRole(role: string): Role {
  if (!isRole(role)) {
    throw new AccessError('invalid_input', 'Invalid role: use admin, operator or viewer')
  }
  return role
}

/** While bootstrap lasts, the user being added must be an admin, or nobody could manage users. */
export function firstUserMustBeAdmin(name: string, role: Role): void {
  if (role !== 'admin') {
    throw new AccessError(
      'first_user_must_be_admin',
      `The first user must be an admin: "${name}" would be ${role}, and nobody could then manage users`,
    )
  }
}

/** Refuses a token before any lookup: missing while users exist, or failing its checksum. */
export function presentedToken(token: string | undefined): string {
  if (token === undefined || token === '') {
    throw new AccessError('authentication_required', 'Authentication required')
  }
  if (parseUserToken(token) === null) throw new AccessError('invalid_token', INVALID_USER_TOKEN)
  return token
}

/** The actor a token lookup found (`row` undefined: nobody holds it). */
export function actorOfRow(row: { id: number; name: string; role: string } | undefined): UserActor {
  if (row === undefined || !isRole(row.role)) throw new AccessError('invalid_token', INVALID_USER_TOKEN)
  return { kind: 'user', id: row.id, name: row.name, role: row.role }
}

/**
 * The caller's actor as the store holds it now, inside the write transaction, authorised for
 * `permission`: bootstrap may have ended, or the user been removed or demoted, since the caller's
 * check. `row` is the actor's row read in that transaction (undefined: removed).
 */
export function recheckActor(
  actor: Actor,
  permission: Permission,
  bootstrapping: boolean,
  row: { name: string; role: string } | undefined,
): Actor {
  let current: Actor
  if (actor.kind === 'bootstrap') {
    if (!bootstrapping) {
      throw new AccessError(
        'authentication_required',
        'Authentication required: the first user was added while this command ran',
      )
    }
    current = BOOTSTRAP
  } else {
    if (row === undefined || !isRole(row.role)) throw new AccessError('invalid_token', INVALID_USER_TOKEN)
    current = { ...actor, name: row.name, role: row.role } satisfies UserActor
  }
  const decision = authorize(current, permission)
  if (!decision.allowed) throw new AccessError('forbidden', decision.reason)
  return current
}

export function userExists(name: string): AccessError {
  return new AccessError('user_exists', `User "${name}" already exists`)
}

/** The target row of a change, or `user_not_found`. */
export function existing<R>(row: R | undefined, name: string): R {
  if (row === undefined) throw new AccessError('user_not_found', `No user named "${name}" (aegis user list)`)
  return row
}

/** Whether changing `target` to `role` (null: removing it) would take an admin away. */
export function losesAnAdmin(target: { role: string }, role: Role | null): boolean {
  return target.role === 'admin' && role !== 'admin'
}

/** Refuses when no other admin would be left (`otherAdmins` counted inside the write transaction). */
export function keepAnAdmin(otherAdmins: number, verb: 'demote' | 'remove', name: string): void {
  if (otherAdmins === 0) {
    throw new AccessError(
      'last_admin',
      `Cannot ${verb} "${name}": it is the last admin (make another user admin first)`,
    )
  }
}

/** The columns a token leaves in the store: its public id and its SHA-256, never the token. */
export function tokenColumns(token: string): { tokenId: string; tokenHash: Buffer; lastUsedAt: null } {
  const parts = parseUserToken(token)
  if (parts === null) throw new Error('generated user token failed its own checksum')
  // A new token has not been used yet: the last use was the old one's.
  return { tokenId: parts.id, tokenHash: hashUserToken(token), lastUsedAt: null }
}

/** A row as `listUsers` shows it (both engines hold the same representation). */
export function info(row: UserRow): UserInfo {
  return {
    name: row.name,
    role: checkRole(row.role),
    createdAt: new Date(Number(row.createdAt)).toISOString(),
    updatedAt: new Date(Number(row.updatedAt)).toISOString(),
    lastUsedAt: row.lastUsedAt == null ? null : new Date(Number(row.lastUsedAt)).toISOString(),
  }
}
