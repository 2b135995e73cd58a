import type { CredentialPatch } from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { credentialFlags, parseScopes, parseTtl } from '../../lib/credential-flags.js'
import { type CredentialJson, credentialJson, credentialSummary } from '../../lib/credential-view.js'
import { splitList } from '../../lib/lists.js'

/** `none` clears an optional setting. */
const NONE = 'none'

export default class VaultUpdate extends AegisCommand<typeof VaultUpdate> {
  static override summary = "Change a credential's settings (not its secret: see vault rotate)"
  static override examples = [
    '<%= config.bin %> vault update --name github-bot --rate-limit 200/min --body-inspection warn',
    '<%= config.bin %> vault update --name github-bot --domains api.github.com,uploads.github.com',
    '<%= config.bin %> vault update --name github-bot --rate-limit none --ttl 30',
  ]
  static override flags = {
    name: Flags.string({ description: 'Credential name', required: true }),
    ...credentialFlags,
    'rate-limit': Flags.string({
      description: 'Requests per window, e.g. 100/min; "none" removes the limit',
    }),
    ttl: Flags.string({
      description: 'Days from now until the credential expires; "none" removes the expiry',
    }),
  }

  async run(): Promise<CredentialJson> {
    const f = this.flags
    const patch: CredentialPatch = {
      ...(f.domains !== undefined && { domains: splitList(f.domains, '--domains') }),
      ...(f['auth-type'] !== undefined && { authType: f['auth-type'] }),
      ...(f['header-name'] !== undefined && { headerName: f['header-name'] }),
      ...(f['query-param'] !== undefined && { queryParam: f['query-param'] }),
      ...(f.scopes !== undefined && { scopes: parseScopes(f.scopes) }),
      ...(f.ttl !== undefined && { ttlDays: parseTtl(f.ttl) }),
      ...(f['rate-limit'] !== undefined && { rateLimit: f['rate-limit'] === NONE ? null : f['rate-limit'] }),
      ...(f['body-inspection'] !== undefined && { bodyInspection: f['body-inspection'] }),
    }
    if (Object.keys(patch).length === 0) this.fail('Nothing to update: give at least one setting flag')
    const info = await this.withVault((vault) => vault.update(f.name, patch))
    this.log(`Updated credential ${info.name}`)
    for (const line of credentialSummary(info)) this.log(line)
    return credentialJson(info)
  }
}
