import type { Actor } from './actor.js'
import { AccessError } from './errors.js'

/**
 * Whether RBAC was ever turned on for a data directory (its first user added), as kept outside
 * access.db — in the vault's sealed state and its key-less hint — so that deleting or emptying
 * access.db cannot answer "never": the date it was, or null. A host builds one with `rbacRecord`
 * from @aegis/vault.
 */
export type RbacRecord = () => string | null

/** How the operator gets back in (documented in the CLI README, "Recovering a lost access.db"). */
const RECOVERY =
  'restore access.db from a backup, or, holding the master key or its key shares, add a new first admin with: aegis user recover --name <name>'

/** The words for a data directory whose users are gone although RBAC was turned on. */
export function lostUsersMessage(dataDir: string, since: string): string {
  return `RBAC is on for ${dataDir} (its first user was added ${since}), but access.db holds no user: it was deleted, emptied or replaced. Refused; ${RECOVERY}`
}

/**
 * The rule every host applies to bootstrap (no user: everything allowed): it holds only while RBAC
 * was never turned on. Returns `actor` unchanged unless it is bootstrap and `record` says RBAC was
 * turned on; then throws AccessError `users_lost`. `record` is consulted only for bootstrap, so a
 * store with users costs nothing.
 */
export function guardBootstrap(actor: Actor, record: RbacRecord | undefined, dataDir: string): Actor {
  if (actor.kind !== 'bootstrap' || record === undefined) return actor
  const since = record()
  if (since === null) return actor
  throw new AccessError('users_lost', lostUsersMessage(dataDir, since))
}
