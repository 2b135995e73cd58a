import type { Actor } from './actor.js'
import type { AccessStore, DeliverToken, IssuedToken, UserInfo } from './store.js'

/**
 * The users of either engine, as the CLI, the dashboard and the gate's admin socket use them. Same
 * names, checks, AccessError codes and messages as `AccessStore` (SQLite) and `openPgUserStore`
 * (PostgreSQL), returned as promises. Every change re-checks the actor inside its transaction.
 */
export interface UserStore {
  readonly engine: 'sqlite' | 'postgres'
  bootstrapCompletedAt(): Promise<Date | null>
  resolveActor(token: string | undefined): Promise<Actor>
  listUsers(): Promise<UserInfo[]>
  /**
   * With `deliver`, the token is handed to it inside the transaction, before COMMIT: when it fails
   * (the token could not be shown or saved) no user is added and bootstrap does not end.
   */
  addUser(actor: Actor, input: { name: string; role: string }, deliver?: DeliverToken): Promise<IssuedToken>
  setRole(actor: Actor, input: { name: string; role: string }): Promise<UserInfo>
  /** With `deliver` as for `addUser`: when it fails, the old token keeps working. */
  regenerateToken(actor: Actor, input: { name: string }, deliver?: DeliverToken): Promise<IssuedToken>
  removeUser(actor: Actor, input: { name: string }): Promise<void>
  close(): Promise<void>
}

/** The SQLite `AccessStore` behind the async interface; `close()` closes it. A sync throw becomes a rejection. */
export function sqliteUserStore(store: AccessStore): UserStore {
  const run = async <R>(fn: () => R): Promise<R> => fn()
  return {
    engine: 'sqlite',
    bootstrapCompletedAt: () => run(() => store.bootstrapCompletedAt()),
    resolveActor: (token) => run(() => store.resolveActor(token)),
    listUsers: () => run(() => store.listUsers()),
    addUser: (actor, input, deliver) =>
      deliver === undefined
        ? run(() => store.addUser(actor, input))
        : store.addUserDelivered(actor, input, deliver),
    setRole: (actor, input) => run(() => store.setRole(actor, input)),
    regenerateToken: (actor, input, deliver) =>
      deliver === undefined
        ? run(() => store.regenerateToken(actor, input))
        : store.regenerateTokenDelivered(actor, input, deliver),
    removeUser: (actor, input) => run(() => store.removeUser(actor, input)),
    close: () => run(() => store.close()),
  }
}
