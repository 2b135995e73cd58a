/** Users: `user list` (never a token, hash or id), `user role`, `user remove` (last-admin rule applies). */
import type { UserStore } from '@aegis/access'
import { ApiError } from '../respond.js'
import { cliPermission } from './permission.js'
import type { Route } from './route.js'

/** A store that was never created holds no user named in a write. */
function existing(store: UserStore | null, name: string): UserStore {
  if (store === null) throw new ApiError(404, 'not_found', `No user named "${name}"`)
  return store
}

export const listUsers: Route = {
  method: 'GET',
  pattern: /^\/api\/users$/,
  permission: cliPermission('user:list'),
  async handle({ deps }) {
    const users = await deps.users.use(async (store) => (await store?.listUsers()) ?? [])
    // Field by field: a column added to UserInfo later does not reach the browser by accident.
    return {
      items: users.map((u) => ({
        name: u.name,
        role: u.role,
        createdAt: u.createdAt,
        updatedAt: u.updatedAt,
        lastUsedAt: u.lastUsedAt,
      })),
    }
  },
}

const NAMED = /^\/api\/users\/(?<name>[^/]+)/

export const setUserRole: Route = {
  method: 'PUT',
  pattern: new RegExp(`${NAMED.source}/role$`),
  permission: cliPermission('user:role'),
  async handle({ deps, params, actor }, body) {
    const name = params.name ?? ''
    const role = body.role
    if (typeof role !== 'string')
      throw new ApiError(400, 'invalid_request', 'role: expected admin, operator or viewer')
    const user = await deps.users.use((store) => existing(store, name).setRole(actor, { name, role }))
    return { name: user.name, role: user.role, createdAt: user.createdAt, updatedAt: user.updatedAt }
  },
}

export const removeUser: Route = {
  method: 'DELETE',
  pattern: new RegExp(`${NAMED.source}$`),
  permission: cliPermission('user:remove'),
  async handle({ deps, params, actor }) {
    const name = params.name ?? ''
    await deps.users.use((store) => existing(store, name).removeUser(actor, { name }))
    return undefined
  },
}
