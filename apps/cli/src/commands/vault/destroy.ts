import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'

export default class VaultDestroy extends AegisCommand<typeof VaultDestroy> {
  static override summary = 'Delete a vault and every credential in it'
  static override description = 'This cannot be undone. It is refused without --confirm.'
  static override examples = ['<%= config.bin %> vault destroy --name staging --confirm']
  static override flags = {
    name: Flags.string({ description: 'Vault name', required: true }),
    confirm: Flags.boolean({ description: 'Confirm that the vault and its credentials should be deleted' }),
  }

  async run(): Promise<{ name: string; destroyed: true }> {
    const { name, confirm } = this.flags
    this.dataDir() // no workspace here is the first thing to say
    if (!confirm)
      this.fail(`Refusing to destroy vault "${name}" without --confirm (this deletes its credentials)`)
    await this.withStorage((storage) => storage.destroyVault(name))
    this.log(`Destroyed vault ${name}`)
    return { name, destroyed: true }
  }
}
