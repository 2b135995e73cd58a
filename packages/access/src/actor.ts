import type { Role } from './roles.js'

/**
 * Who is acting. `bootstrap` is the one unauthenticated actor: it exists only while no user was
 * ever created (see `AccessStore.resolveActor`), and may do everything.
 */
export type Actor = { readonly kind: 'bootstrap' } | UserActor

export interface UserActor {
  readonly kind: 'user'
  /** The user's row id: a store re-reads the role by it inside a write transaction. */
  readonly id: number
  readonly name: string
  readonly role: Role
}

export const BOOTSTRAP: Actor = Object.freeze({ kind: 'bootstrap' })
