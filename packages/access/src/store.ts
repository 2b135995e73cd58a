import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { generateUserToken, hashUserToken } from '@aegis/guard'
import { and, count, eq, isNull, lt, ne, or } from 'drizzle-orm'
import { type Actor, BOOTSTRAP } from './actor.js'
import { type Connection, connect } from './db.js'
import { checkUserName } from './names.js'
import type { Permission } from './permissions.js'
import type { Role } from './roles.js'
import {
  actorOfRow,
  BOOTSTRAP_KEY,
  checkRole,
  type DeliverToken,
  existing,
  firstUserMustBeAdmin,
  type IssuedToken,
  info,
  keepAnAdmin,
  LAST_USE_RESOLUTION_MS,
  lastUseStale,
  losesAnAdmin,
  presentedToken,
  recheckActor,
  tokenColumns,
  type UserInfo,
  userExists,
} from './rules.js'
import { settings, users } from './schema.js'

export type { DeliverToken, IssuedToken, UserInfo } from './rules.js'

/** The user store's file in a data directory: users are per data directory, not per vault. */
export function accessFile(dataDir: string): string {
  return join(dataDir, 'access.db')
}

/**
 * The users of one data directory (`<data_dir>/access.db`). It needs no master key, so an admin
 * can authenticate while the vault is sealed. Every change runs in one `BEGIN IMMEDIATE`
 * transaction that re-checks the actor against the rows it is about to change: two processes
 * cannot both pass a check the other one's write would have failed.
 */
export class AccessStore {
  readonly #conn: Connection

  private constructor(conn: Connection) {
    this.#conn = conn
  }

  /**
   * Opens the store; with `create`, makes the file (0600) when missing. Null when the file is
   * missing and `create` is false: no user was ever added here.
   */
  static open(options: { file: string; create?: boolean }): AccessStore | null {
    const conn = connect(options.file, options.create === true)
    return conn === null ? null : new AccessStore(conn)
  }

  /** When the first user was added (bootstrap ended for good), or null while bootstrap lasts. */
  bootstrapCompletedAt(): Date | null {
    const row = this.#conn.db.select().from(settings).where(eq(settings.key, BOOTSTRAP_KEY)).get()
    return row === undefined ? null : new Date(row.value)
  }

  /**
   * Who presents `token`: the bootstrap actor while bootstrap lasts (the token is then not read),
   * else the user holding it. A token that fails its checksum is refused before any lookup.
   */
  resolveActor(token: string | undefined): Actor {
    if (this.bootstrapCompletedAt() === null) return BOOTSTRAP
    const presented = presentedToken(token)
    const row = this.#conn.db
      .select({ id: users.id, name: users.name, role: users.role, lastUsedAt: users.lastUsedAt })
      .from(users)
      .where(eq(users.tokenHash, hashUserToken(presented)))
      .get()
    const actor = actorOfRow(row)
    this.#noteUse(actor.id, row?.lastUsedAt)
    return actor
  }

  /** Records the token's use, at most once a minute per user (`LAST_USE_RESOLUTION_MS`). */
  #noteUse(id: number, lastUsedAt: number | null | undefined): void {
    const now = Date.now()
    if (!lastUseStale(lastUsedAt, now)) return
    try {
      // The condition again in the write: another process may have recorded it meanwhile.
      this.#conn.db
        .update(users)
        .set({ lastUsedAt: now })
        .where(
          and(
            eq(users.id, id),
            or(isNull(users.lastUsedAt), lt(users.lastUsedAt, now - LAST_USE_RESOLUTION_MS)),
          ),
        )
        .run()
    } catch {
      // Bookkeeping: a busy or read-only file must not refuse the caller its command.
    }
  }

  /** Every user, by name; no token material. */
  listUsers(): UserInfo[] {
    return this.#conn.db
      .select()
      .from(users)
      .orderBy(users.name)
      .all()
      .map((row) => info(row))
  }

  /**
   * Adds a user and returns its token (shown once). While bootstrap lasts the first user must be an
   * admin, and adding it ends bootstrap for good, in the same transaction.
   */
  addUser(actor: Actor, input: { name: string; role: string }): IssuedToken {
    const name = checkUserName(input.name)
    const role = checkRole(input.role)
    return this.#write(actor, 'user:write', () => this.#insertUser(name, role))
  }

  /**
   * `addUser`, with `deliver` called on the token inside the transaction, before it commits: when
   * it fails (the token could not be shown or saved) nothing is committed, so a token nobody has
   * never exists — not even as the first admin that ends bootstrap for good.
   */
  async addUserDelivered(
    actor: Actor,
    input: { name: string; role: string },
    deliver: DeliverToken,
  ): Promise<IssuedToken> {
    const name = checkUserName(input.name)
    const role = checkRole(input.role)
    return this.#writeDelivered(actor, 'user:write', () => this.#insertUser(name, role), deliver)
  }

  #insertUser(name: string, role: Role): IssuedToken {
    const { db } = this.#conn
    const bootstrapping = this.bootstrapCompletedAt() === null
    if (bootstrapping) firstUserMustBeAdmin(name, role)
    if (db.select({ id: users.id }).from(users).where(eq(users.name, name)).get() !== undefined) {
      throw userExists(name)
    }
    const token = generateUserToken()
    const now = Date.now()
    db.insert(users)
      .values({ name, role, ...tokenColumns(token), createdAt: now, updatedAt: now })
      .run()
    if (bootstrapping) {
      db.insert(settings)
        .values({ key: BOOTSTRAP_KEY, value: new Date(now).toISOString() })
        .run()
    }
    return { name, role, token }
  }

  /** Changes a user's role; the last admin cannot be demoted. */
  setRole(actor: Actor, input: { name: string; role: string }): UserInfo {
    const name = checkUserName(input.name)
    const role = checkRole(input.role)
    return this.#write(actor, 'user:write', () => {
      const target = this.#existing(name)
      if (losesAnAdmin(target, role)) this.#keepAnAdmin(target.id, 'demote', name)
      this.#conn.db.update(users).set({ role, updatedAt: Date.now() }).where(eq(users.id, target.id)).run()
      return info(this.#existing(name))
    })
  }

  /** Issues a new token for a user; the old one stops working when this returns. */
  regenerateToken(actor: Actor, input: { name: string }): IssuedToken {
    const name = checkUserName(input.name)
    return this.#write(actor, 'user:write', () => this.#replaceToken(name))
  }

  /** `regenerateToken`, delivered as `addUserDelivered` is: when `deliver` fails the old token stays. */
  async regenerateTokenDelivered(
    actor: Actor,
    input: { name: string },
    deliver: DeliverToken,
  ): Promise<IssuedToken> {
    const name = checkUserName(input.name)
    return this.#writeDelivered(actor, 'user:write', () => this.#replaceToken(name), deliver)
  }

  #replaceToken(name: string): IssuedToken {
    const target = this.#existing(name)
    const token = generateUserToken()
    this.#conn.db
      .update(users)
      .set({ ...tokenColumns(token), updatedAt: Date.now() })
      .where(eq(users.id, target.id))
      .run()
    return { name, role: checkRole(target.role), token }
  }

  /** Removes a user (its token stops working at once); the last admin cannot be removed. */
  removeUser(actor: Actor, input: { name: string }): void {
    const name = checkUserName(input.name)
    this.#write(actor, 'user:write', () => {
      const target = this.#existing(name)
      if (losesAnAdmin(target, null)) this.#keepAnAdmin(target.id, 'remove', name)
      this.#conn.db.delete(users).where(eq(users.id, target.id)).run()
    })
  }

  close(): void {
    this.#conn.client.close()
  }

  /**
   * Runs `fn` in one BEGIN IMMEDIATE transaction (the write lock is taken first, so a concurrent
   * writer waits instead of reading the same state), after checking the actor again inside it:
   * bootstrap may have ended, or the user been removed or demoted, since the caller's check.
   */
  #write<R>(actor: Actor, permission: Permission, fn: () => R): R {
    return this.#conn.client
      .transaction(() => {
        this.#recheck(actor, permission)
        return fn()
      })
      .immediate()
  }

  /**
   * `#write`, then `deliver` on the result while the transaction is still open: COMMIT only once
   * it resolved, ROLLBACK when it fails. The write lock is held meanwhile (a write of a few lines).
   */
  async #writeDelivered(
    actor: Actor,
    permission: Permission,
    fn: () => IssuedToken,
    deliver: DeliverToken,
  ): Promise<IssuedToken> {
    const { client } = this.#conn
    client.exec('BEGIN IMMEDIATE')
    try {
      this.#recheck(actor, permission)
      const issued = fn()
      await deliver(issued)
      client.exec('COMMIT')
      return issued
    } catch (error) {
      if (client.inTransaction) client.exec('ROLLBACK')
      throw error
    }
  }

  /** The actor as the store holds it now, authorised again (the rule lives in rules.ts). */
  #recheck(actor: Actor, permission: Permission): void {
    const row =
      actor.kind === 'user'
        ? this.#conn.db
            .select({ role: users.role, name: users.name })
            .from(users)
            .where(eq(users.id, actor.id))
            .get()
        : undefined
    recheckActor(actor, permission, this.bootstrapCompletedAt() === null, row)
  }

  #existing(name: string): typeof users.$inferSelect {
    return existing(this.#conn.db.select().from(users).where(eq(users.name, name)).get(), name)
  }

  /** Refuses when no other admin would be left (counted inside the caller's write transaction). */
  #keepAnAdmin(targetId: number, verb: 'demote' | 'remove', name: string): void {
    const others = this.#conn.db
      .select({ n: count() })
      .from(users)
      .where(and(eq(users.role, 'admin'), ne(users.id, targetId)))
      .get()
    keepAnAdmin(others?.n ?? 0, verb, name)
  }
}

/**
 * Who runs a command against the data directory of `file`: bootstrap when the file is missing or
 * no user was ever added, else the holder of `token` (AccessError `authentication_required` or
 * `invalid_token` otherwise). Reads only; never creates the file.
 */
export function resolveActor(options: { file: string; token: string | undefined }): Actor {
  const store = AccessStore.open({ file: options.file })
  if (store === null) return BOOTSTRAP
  try {
    return store.resolveActor(options.token)
  } finally {
    store.close()
  }
}

/**
 * Adds a user to the store at `file`, creating it (0600) for the first user only once the input
 * passed every check that needs no database: a refused first `user add` leaves no file behind.
 * With `deliver` (see `AccessStore.addUserDelivered`) it returns a promise, and a failed delivery
 * leaves no file behind either when this call created it.
 */
export function addUser(options: AddUserOptions & { deliver?: undefined }): IssuedToken
export function addUser(options: AddUserOptions & { deliver: DeliverToken }): Promise<IssuedToken>
export function addUser(options: AddUserOptions): IssuedToken | Promise<IssuedToken> {
  const { file, actor, name, role, deliver } = options
  let store = AccessStore.open({ file })
  let created = false
  if (store === null) {
    firstUserMustBeAdmin(checkUserName(name), checkRole(role))
    store = AccessStore.open({ file, create: true }) as AccessStore
    created = true
  }
  const opened = store
  if (deliver === undefined) {
    try {
      return opened.addUser(actor, { name, role })
    } finally {
      opened.close()
    }
  }
  return opened.addUserDelivered(actor, { name, role }, deliver).then(
    (issued) => {
      opened.close()
      return issued
    },
    (error: unknown) => {
      opened.close()
      if (created) removeStoreFiles(file)
      throw error
    },
  )
}

export interface AddUserOptions {
  file: string
  actor: Actor
  name: string
  role: string
  /** Shows or saves the token before the user is committed; see `AccessStore.addUserDelivered`. */
  deliver?: DeliverToken | undefined
}

/** A store file this process created, with the journal SQLite may keep beside it. */
function removeStoreFiles(file: string): void {
  for (const f of [file, `${file}-journal`]) rmSync(f, { force: true })
}
