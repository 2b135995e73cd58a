/** Credentials: the `vault list --json` items (metadata only) and `vault remove`. */
import { credentialJson } from '../../lib/credential-view.js'
import { cliPermission } from './permission.js'
import type { Route } from './route.js'

export const listCredentials: Route = {
  method: 'GET',
  pattern: /^\/api\/credentials$/,
  permission: cliPermission('vault:list'),
  async handle({ deps }) {
    const items = await deps.vault.use(async (vault) => (await vault.list()).map(credentialJson))
    return { vault: deps.vault.name, items }
  },
}

export const removeCredential: Route = {
  method: 'DELETE',
  pattern: /^\/api\/credentials\/(?<name>[^/]+)$/,
  permission: cliPermission('vault:remove'),
  async handle({ deps, params }) {
    await deps.vault.use((vault) => vault.remove(params.name ?? ''))
    return undefined
  },
}
