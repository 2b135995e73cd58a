import type { NewCredential } from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { credentialFlags, parseScopes, parseTtl } from '../../lib/credential-flags.js'
import { type CredentialJson, credentialJson, credentialSummary } from '../../lib/credential-view.js'
import { splitList } from '../../lib/lists.js'
import { readSecret } from '../../lib/secret-input.js'

export default class VaultAdd extends AegisCommand<typeof VaultAdd> {
  static override summary = 'Add a credential to the active vault'
  static override description =
    'The secret is never printed. Prefer --secret - (read from stdin) or no --secret at all (hidden prompt) ' +
    'so the secret stays out of your shell history and the process list.'
  static override examples = [
    '$ printf %s "$SLACK_TOKEN" | <%= config.bin %> vault add --name slack-bot --service slack --domains api.slack.com --secret -',
    '<%= config.bin %> vault add --name gh --service github --domains api.github.com --scopes read --ttl 90 --rate-limit 100/min',
    '<%= config.bin %> vault add --name stripe --service stripe --domains api.stripe.com --auth-type header --header-name X-Api-Key',
  ]
  static override flags = {
    name: Flags.string({ description: 'Unique credential name', required: true }),
    service: Flags.string({
      description: 'Service name: the first path segment agents call',
      required: true,
    }),
    secret: Flags.string({ description: 'The secret; "-" reads it from stdin; omit it to be prompted' }),
    ...credentialFlags,
    domains: Flags.string({
      description: 'Comma-separated allowed hosts, e.g. api.slack.com,*.slack.com',
      required: true,
    }),
    'if-missing': Flags.boolean({
      description:
        'Keep a credential of this name as it is (exit 0) instead of refusing: for re-runnable setup',
    }),
  }

  async run(): Promise<CredentialJson> {
    const f = this.flags
    const vaultName = this.activeVaultName()
    // Refused before the vault opens or a secret is asked for.
    const ttlDays = f.ttl === undefined ? undefined : parseTtl(f.ttl)
    const credential = (secret: string): NewCredential => ({
      name: f.name,
      service: f.service,
      secret,
      domains: splitList(f.domains, '--domains'),
      ...(f['auth-type'] !== undefined && { authType: f['auth-type'] }),
      ...(f['header-name'] !== undefined && { headerName: f['header-name'] }),
      ...(f['query-param'] !== undefined && { queryParam: f['query-param'] }),
      ...(f.scopes !== undefined && { scopes: parseScopes(f.scopes) }),
      ...(ttlDays !== undefined && { ttlDays }),
      ...(f['rate-limit'] !== undefined && { rateLimit: f['rate-limit'] }),
      ...(f['body-inspection'] !== undefined && { bodyInspection: f['body-inspection'] }),
    })
    // The vault opens (and checks the key) before anyone is asked to type a secret.
    let kept = false
    const info = await this.withVault(async (vault) => {
      const existing = f['if-missing'] ? (await vault.list()).find((c) => c.name === f.name) : undefined
      if (existing) {
        kept = true
        return existing
      }
      const secret = await readSecret({ flag: f.secret, prompt: `Secret for ${f.name}` })
      return vault.add(credential(secret))
    })
    this.log(
      kept
        ? `Credential ${info.name} is already in vault ${vaultName} (kept as it is; vault rotate changes its secret)`
        : `Added credential ${info.name} to vault ${vaultName}`,
    )
    for (const line of credentialSummary(info)) this.log(line)
    return credentialJson(info)
  }
}
