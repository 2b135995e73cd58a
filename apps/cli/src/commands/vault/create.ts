import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'

export default class VaultCreate extends AegisCommand<typeof VaultCreate> {
  static override summary = 'Create another named vault (own database and encryption salt)'
  static override examples = [
    '<%= config.bin %> vault create --name staging',
    '$ AEGIS_VAULT=staging <%= config.bin %> vault add --name slack --service slack --domains api.slack.com --secret -',
  ]
  static override flags = {
    name: Flags.string({ description: 'Vault name ([a-z0-9][a-z0-9_-]*)', required: true }),
  }

  async run(): Promise<{ name: string; dataDir: string }> {
    const { name } = this.flags
    const dataDir = this.dataDir()
    const masterKey = this.masterKey()
    const where = await this.withStorage(async (storage) => {
      await (await storage.createVault(name, masterKey)).close()
      return storage.where
    })
    this.log(`Created vault ${name} in ${where}`)
    this.log(`Use it with: AEGIS_VAULT=${name} aegis vault add …`)
    return { name, dataDir }
  }
}
