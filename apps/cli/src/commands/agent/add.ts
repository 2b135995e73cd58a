import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import {
  agentTokenJson,
  inFlagTerms,
  parseMaxInFlight,
  parseRateFlag,
  printAgentToken,
} from '../../lib/agent-view.js'

export default class AgentAdd extends AegisCommand<typeof AgentAdd> {
  static override summary = 'Register an agent and print its token (once)'
  static override description =
    'The vault keeps only a SHA-256 hash of the token, so it is printed this one time. The new agent ' +
    'may use no credential until you grant one: aegis agent grant --agent <name> --credential <name>.'
  static override examples = [
    '<%= config.bin %> agent add --name research-bot',
    '<%= config.bin %> agent add --name research-bot --rate-limit 50/min --max-in-flight 4 --json',
  ]
  static override flags = {
    name: Flags.string({ description: 'Unique agent name ([A-Za-z0-9._-], up to 64)', required: true }),
    'rate-limit': Flags.string({ description: 'Requests per window for this agent, e.g. 50/min' }),
    'max-in-flight': Flags.string({ description: 'Most concurrent requests for this agent' }),
  }

  async run(): Promise<undefined> {
    const f = this.flags
    await this.withVault(async (vault) => {
      let added: Awaited<ReturnType<typeof vault.addAgent>>
      try {
        added = await vault.addAgent({
          name: f.name,
          ...(f['rate-limit'] !== undefined && { rateLimit: parseRateFlag(f['rate-limit']) }),
          ...(f['max-in-flight'] !== undefined && { maxInFlight: parseMaxInFlight(f['max-in-flight']) }),
        })
      } catch (err) {
        throw inFlagTerms(err, {})
      }
      const { agent, token } = added
      try {
        await printAgentToken(
          this.jsonEnabled(),
          `Added agent ${agent.name} (token prefix ${agent.prefix}…)`,
          agentTokenJson(agent, token),
          'the agent was not added',
        )
      } catch (error) {
        // Taken back: an agent whose only token nobody saw would be there for nothing.
        await vault.removeAgent(agent.name)
        throw error
      }
    })
    // Printed above already (with --json, the one document).
    return undefined
  }
}
