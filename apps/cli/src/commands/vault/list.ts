import { AegisCommand } from '../../base-command.js'
import { type CredentialJson, credentialJson, credentialTable } from '../../lib/credential-view.js'

export default class VaultList extends AegisCommand<typeof VaultList> {
  static override summary = 'List the credentials in the active vault (secrets are never shown)'
  static override examples = [
    '<%= config.bin %> vault list',
    '$ AEGIS_VAULT=staging <%= config.bin %> vault list --json',
  ]

  async run(): Promise<CredentialJson[]> {
    const credentials = await this.withVault((vault) => vault.list())
    if (credentials.length === 0) {
      this.log(`No credentials in vault ${this.activeVaultName()}. Add one with: aegis vault add`)
    } else {
      this.log(credentialTable(credentials))
    }
    return credentials.map(credentialJson)
  }
}
