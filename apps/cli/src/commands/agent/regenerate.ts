import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { agentTokenJson, printAgentToken } from '../../lib/agent-view.js'

export default class AgentRegenerate extends AegisCommand<typeof AgentRegenerate> {
  static override summary = "Replace an agent's token; the old token stops working immediately"
  static override description =
    'Grants and limits are kept. A running gate refuses the old token as soon as it picks up the change ' +
    '(within a second).'
  static override examples = ['<%= config.bin %> agent regenerate --name research-bot']
  static override flags = {
    name: Flags.string({ description: 'Agent name', required: true }),
  }

  async run(): Promise<undefined> {
    const { name } = this.flags
    const { agent, token } = await this.withVault((vault) => vault.regenerateAgentToken(name))
    // The old token is gone by now, and the agent fails closed (refused) until a token is shown.
    await printAgentToken(
      this.jsonEnabled(),
      `New token for agent ${agent.name} (prefix ${agent.prefix}…); the old token no longer works.`,
      agentTokenJson(agent, token),
      `the old token no longer works and the new one was not shown, so agent ${agent.name} is refused until you run aegis agent regenerate --name ${agent.name} again`,
    )
    return undefined
  }
}
