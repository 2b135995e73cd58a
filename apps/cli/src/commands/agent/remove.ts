import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'

export default class AgentRemove extends AegisCommand<typeof AgentRemove> {
  static override summary = 'Remove an agent and its grants; its token stops working'
  static override examples = ['<%= config.bin %> agent remove --name research-bot']
  static override flags = {
    name: Flags.string({ description: 'Agent name', required: true }),
  }

  async run(): Promise<{ name: string; removed: true }> {
    const { name } = this.flags
    await this.withVault((vault) => vault.removeAgent(name))
    this.log(`Removed agent ${name} and its grants`)
    return { name, removed: true }
  }
}
