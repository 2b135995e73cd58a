import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { type AgentTokenJson, agentTokenJson, tokenLines } from '../../lib/agent-view.js'

export default class AgentRegenerate extends AegisCommand<typeof AgentRegenerate> {
  static override summary = "Replace an agent's token; the old token stops working immediately"
  static override description =
    'Grants and limits are kept. A running gate refuses the old token as soon as it picks up the change ' +
    '(within a second).'
  static override examples = ['<%= config.bin %> agent regenerate --name research-bot']
  static override flags = {
    name: Flags.string({ description: 'Agent name', required: true }),
  }

  async run(): Promise<AgentTokenJson> {
    const { agent, token } = await this.withVault((vault) => vault.regenerateAgentToken(this.flags.name))
    this.log(`New token for agent ${agent.name} (prefix ${agent.prefix}…); the old token no longer works.`)
    for (const line of tokenLines(token)) this.log(line)
    return agentTokenJson(agent, token)
  }
}
