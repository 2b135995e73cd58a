import type { Actor } from './actor.js'
import { type Permission, ROLE_PERMISSIONS } from './permissions.js'

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string }

const ALLOWED: Decision = Object.freeze({ allowed: true })

/**
 * The one permission check every app calls (CLI now, the dashboard and the admin socket later):
 * pure and synchronous. Refusals name the role and the permission (`operator may not vault:write`).
 */
export function authorize(actor: Actor, permission: Permission): Decision {
  if (actor.kind === 'bootstrap') return ALLOWED
  // An unknown role (a row edited by hand) holds nothing: fail closed.
  if (ROLE_PERMISSIONS[actor.role]?.has(permission) === true) return ALLOWED
  return { allowed: false, reason: `${actor.role} may not ${permission}` }
}
