import { generateUserToken, hashUserToken } from '@aegis/guard'
import { and, count, eq, isNull, lt, ne, or, sql } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import { type Actor, BOOTSTRAP } from '../actor.js'
import { checkUserName } from '../names.js'
import type { Permission } from '../permissions.js'
import {
  actorOfRow,
  BOOTSTRAP_KEY,
  checkRole,
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
} from '../rules.js'
import type { UserStore } from '../user-store.js'
import * as schema from './schema.js'

const { accessMeta, users } = schema

type Db = NodePgDatabase<typeof schema>
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
type Reader = Db | Tx

/**
 * Every user change takes this transaction-level advisory lock first: the PostgreSQL counterpart
 * of SQLite's BEGIN IMMEDIATE (one writer at a time, in every process). A row lock on the target
 * alone would not do: two admins demoting each other each lock a different row, each count the
 * other as the remaining admin, and both commit. User changes are rare, so one at a time costs nothing.
 */
const USERS_WRITE_LOCK = sql`SELECT pg_advisory_xact_lock(hashtext('aegis.users.write'))`

/**
 * The users on PostgreSQL (tables `aegis.users` and `aegis.access_meta`, migrated with
 * `ACCESS_PG_MIGRATIONS`): the same rules (src/rules.ts), errors and messages as the SQLite
 * `AccessStore`. The pool is the host's: `close()` leaves it open.
 */
export function openPgUserStore(pool: Pool): UserStore {
  const db: Db = drizzle({ client: pool, schema })

  async function bootstrapping(reader: Reader): Promise<boolean> {
    const rows = await reader
      .select({ value: accessMeta.value })
      .from(accessMeta)
      .where(eq(accessMeta.key, BOOTSTRAP_KEY))
    return rows.length === 0
  }

  async function byName(tx: Tx, name: string) {
    return existing((await tx.select().from(users).where(eq(users.name, name)))[0], name)
  }

  async function keepAdmin(tx: Tx, targetId: number, verb: 'demote' | 'remove', name: string) {
    const [row] = await tx
      .select({ n: count() })
      .from(users)
      .where(and(eq(users.role, 'admin'), ne(users.id, targetId)))
    keepAnAdmin(Number(row?.n ?? 0), verb, name)
  }

  /** Runs `fn` under the write lock after checking the actor again, as the SQLite store does. */
  function write<R>(actor: Actor, permission: Permission, fn: (tx: Tx, bootstrap: boolean) => Promise<R>) {
    return db.transaction(async (tx) => {
      await tx.execute(USERS_WRITE_LOCK)
      const boot = await bootstrapping(tx)
      const row =
        actor.kind === 'user'
          ? (
              await tx
                .select({ role: users.role, name: users.name })
                .from(users)
                .where(eq(users.id, actor.id))
            )[0]
          : undefined
      recheckActor(actor, permission, boot, row)
      return fn(tx, boot)
    })
  }

  return {
    engine: 'postgres',

    async bootstrapCompletedAt(): Promise<Date | null> {
      const [row] = await db
        .select({ value: accessMeta.value })
        .from(accessMeta)
        .where(eq(accessMeta.key, BOOTSTRAP_KEY))
      return row === undefined ? null : new Date(row.value)
    },

    async resolveActor(token: string | undefined): Promise<Actor> {
      if (await bootstrapping(db)) return BOOTSTRAP
      const presented = presentedToken(token)
      const [row] = await db
        .select({ id: users.id, name: users.name, role: users.role, lastUsedAt: users.lastUsedAt })
        .from(users)
        .where(eq(users.tokenHash, hashUserToken(presented)))
      const actor = actorOfRow(row)
      // The token's use, at most once a minute per user (`LAST_USE_RESOLUTION_MS`); the condition
      // again in the write, for another gate or CLI that recorded it meanwhile.
      const now = Date.now()
      if (lastUseStale(row?.lastUsedAt, now)) {
        await db
          .update(users)
          .set({ lastUsedAt: now })
          .where(
            and(
              eq(users.id, actor.id),
              or(isNull(users.lastUsedAt), lt(users.lastUsedAt, now - LAST_USE_RESOLUTION_MS)),
            ),
          )
          .catch(() => {})
      }
      return actor
    },

    async listUsers(): Promise<UserInfo[]> {
      return (await db.select().from(users).orderBy(users.name)).map((row) => info(row))
    },

    async addUser(actor, input, deliver): Promise<IssuedToken> {
      const name = checkUserName(input.name)
      const role = checkRole(input.role)
      return write(actor, 'user:write', async (tx, boot) => {
        if (boot) firstUserMustBeAdmin(name, role)
        if ((await tx.select({ id: users.id }).from(users).where(eq(users.name, name))).length > 0) {
          throw userExists(name)
        }
        const token = generateUserToken()
        const now = Date.now()
        await tx.insert(users).values({ name, role, ...tokenColumns(token), createdAt: now, updatedAt: now })
        if (boot) {
          await tx.insert(accessMeta).values({ key: BOOTSTRAP_KEY, value: new Date(now).toISOString() })
        }
        const issued = { name, role, token }
        // Before COMMIT: a token that could not be delivered is rolled back with its user.
        await deliver?.(issued)
        return issued
      })
    },

    async setRole(actor, input): Promise<UserInfo> {
      const name = checkUserName(input.name)
      const role = checkRole(input.role)
      return write(actor, 'user:write', async (tx) => {
        const target = await byName(tx, name)
        if (losesAnAdmin(target, role)) await keepAdmin(tx, target.id, 'demote', name)
        await tx.update(users).set({ role, updatedAt: Date.now() }).where(eq(users.id, target.id))
        return info(await byName(tx, name))
      })
    },

    async regenerateToken(actor, input, deliver): Promise<IssuedToken> {
      const name = checkUserName(input.name)
      return write(actor, 'user:write', async (tx) => {
        const target = await byName(tx, name)
        const token = generateUserToken()
        await tx
          .update(users)
          .set({ ...tokenColumns(token), updatedAt: Date.now() })
          .where(eq(users.id, target.id))
        const issued = { name, role: checkRole(target.role), token }
        await deliver?.(issued)
        return issued
      })
    },

    async removeUser(actor, input): Promise<void> {
      const name = checkUserName(input.name)
      await write(actor, 'user:write', async (tx) => {
        const target = await byName(tx, name)
        if (losesAnAdmin(target, null)) await keepAdmin(tx, target.id, 'remove', name)
        await tx.delete(users).where(eq(users.id, target.id))
      })
    },

    async close(): Promise<void> {
      // The pool belongs to the host, which closes it after every store that shares it.
    },
  }
}
