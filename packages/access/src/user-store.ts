import type { Actor } from './actor.js'
import type { AccessStore, IssuedToken, UserInfo } from './store.js'

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
  addUser(actor: Actor, input: { name: string; role: string }): Promise<IssuedToken>
  setRole(actor: Actor, input: { name: string; role: string }): Promise<UserInfo>
  regenerateToken(actor: Actor, input: { name: string }): Promise<IssuedToken>
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
    addUser: (actor, input) => run(() => store.addUser(actor, input)),
    setRole: (actor, input) => run(() => store.setRole(actor, input)),
    regenerateToken: (actor, input) => run(() => store.regenerateToken(actor, input)),
    removeUser: (actor, input) => run(() => store.removeUser(actor, input)),
    close: () => run(() => store.close()),
  }
}
