import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { inFlagTerms } from '../../lib/agent-view.js'

export default class AgentGrant extends AegisCommand<typeof AgentGrant> {
  static override summary = 'Let an agent use a credential'
  static override description =
    'Granting again is harmless. Removing the credential (vault remove) removes the grant with it.'
  static override examples = ['<%= config.bin %> agent grant --agent research-bot --credential slack-bot']
  static override flags = {
    agent: Flags.string({ description: 'Agent name', required: true }),
    credential: Flags.string({ description: 'Credential name', required: true }),
  }

  async run(): Promise<{ agent: string; credential: string; granted: true; changed: boolean }> {
    const { agent, credential } = this.flags
    const changed = await this.withVault(async (vault) => {
      try {
        return await vault.grant(agent, credential)
      } catch (err) {
        throw inFlagTerms(err, { credentialName: '--credential' })
      }
    })
    this.log(
      changed
        ? `Granted agent ${agent} access to credential ${credential}`
        : `Agent ${agent} already had access to credential ${credential}`,
    )
    return { agent, credential, granted: true, changed }
  }
}
