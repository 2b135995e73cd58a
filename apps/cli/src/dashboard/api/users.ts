/** Users: `user list` (never a token, hash or id), `user role`, `user remove` (last-admin rule applies). */
import { AccessStore, type Actor } from '@aegis/access'
import { ApiError } from '../respond.js'
import { cliPermission } from './permission.js'
import type { Route } from './route.js'

/** Runs `fn` on the user store; a store that was never created holds no user named in a write. */
function withStore<R>(file: string, fn: (store: AccessStore | null) => R): R {
  const store = AccessStore.open({ file })
  try {
    return fn(store)
  } finally {
    store?.close()
  }
}

function existing(store: AccessStore | null, name: string): AccessStore {
  if (store === null) throw new ApiError(404, 'not_found', `No user named "${name}"`)
  return store
}

export const listUsers: Route = {
  method: 'GET',
  pattern: /^\/api\/users$/,
  permission: cliPermission('user:list'),
  handle({ deps }) {
    const users = withStore(deps.accessFile, (store) => store?.listUsers() ?? [])
    // Field by field: a column added to UserInfo later does not reach the browser by accident.
    return {
      items: users.map((u) => ({
        name: u.name,
        role: u.role,
        createdAt: u.createdAt,
        updatedAt: u.updatedAt,
      })),
    }
  },
}

const NAMED = /^\/api\/users\/(?<name>[^/]+)/

export const setUserRole: Route = {
  method: 'PUT',
  pattern: new RegExp(`${NAMED.source}/role$`),
  permission: cliPermission('user:role'),
  handle({ deps, params, actor }, body) {
    const name = params.name ?? ''
    const role = body.role
    if (typeof role !== 'string')
      throw new ApiError(400, 'invalid_request', 'role: expected admin, operator or viewer')
    const user = withStore(deps.accessFile, (store) =>
      existing(store, name).setRole(actor as Actor, { name, role }),
    )
    return { name: user.name, role: user.role, createdAt: user.createdAt, updatedAt: user.updatedAt }
  },
}

export const removeUser: Route = {
  method: 'DELETE',
  pattern: new RegExp(`${NAMED.source}$`),
  permission: cliPermission('user:remove'),
  handle({ deps, params, actor }) {
    const name = params.name ?? ''
    withStore(deps.accessFile, (store) => existing(store, name).removeUser(actor, { name }))
    return undefined
  },
}
