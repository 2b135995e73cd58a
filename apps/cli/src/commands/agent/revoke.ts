import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { inFlagTerms } from '../../lib/agent-view.js'

export default class AgentRevoke extends AegisCommand<typeof AgentRevoke> {
  static override summary = 'Take a credential away from an agent'
  static override description =
    'Revoking a grant the agent does not have is not an error (nothing changes); an unknown agent or ' +
    'credential is.'
  static override examples = ['<%= config.bin %> agent revoke --agent research-bot --credential slack-bot']
  static override flags = {
    agent: Flags.string({ description: 'Agent name', required: true }),
    credential: Flags.string({ description: 'Credential name', required: true }),
  }

  async run(): Promise<{ agent: string; credential: string; granted: false; changed: boolean }> {
    const { agent, credential } = this.flags
    const changed = await this.withVault(async (vault) => {
      try {
        return await vault.revoke(agent, credential)
      } catch (err) {
        throw inFlagTerms(err, { credentialName: '--credential' })
      }
    })
    this.log(
      changed
        ? `Revoked agent ${agent}'s access to credential ${credential}`
        : `Agent ${agent} had no access to credential ${credential}; nothing changed`,
    )
    return { agent, credential, granted: false, changed }
  }
}
