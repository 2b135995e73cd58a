import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'

export default class VaultRemove extends AegisCommand<typeof VaultRemove> {
  static override summary = 'Remove a credential from the active vault'
  static override examples = ['<%= config.bin %> vault remove --name slack-bot']
  static override flags = {
    name: Flags.string({ description: 'Credential name', required: true }),
  }

  async run(): Promise<{ name: string; vault: string; removed: true }> {
    const { name } = this.flags
    await this.withVault((vault) => vault.remove(name))
    this.log(`Removed credential ${name} from vault ${this.activeVaultName()}`)
    return { name, vault: this.activeVaultName(), removed: true }
  }
}
