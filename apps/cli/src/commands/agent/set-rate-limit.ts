import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import {
  type AgentJson,
  agentJson,
  inFlagTerms,
  parseMaxInFlight,
  parseRateFlag,
} from '../../lib/agent-view.js'

export default class AgentSetRateLimit extends AegisCommand<typeof AgentSetRateLimit> {
  static override summary = "Set or remove an agent's rate limit (and optionally its in-flight cap)"
  static override examples = [
    '<%= config.bin %> agent set-rate-limit --agent research-bot --limit 50/min',
    '<%= config.bin %> agent set-rate-limit --agent research-bot --limit none --max-in-flight 4',
  ]
  static override flags = {
    agent: Flags.string({ description: 'Agent name', required: true }),
    limit: Flags.string({
      description:
        'Requests per window, e.g. 50/min; "none" removes it (also --rate-limit, as agent add spells it)',
      // `agent add` and `vault add|update` call it --rate-limit; the brief names --limit here.
      aliases: ['rate-limit'],
      required: true,
    }),
    'max-in-flight': Flags.string({ description: 'Most concurrent requests; "none" removes the cap' }),
  }

  async run(): Promise<AgentJson> {
    const f = this.flags
    const info = await this.withVault(async (vault) => {
      try {
        return await vault.setAgentLimits(f.agent, {
          rateLimit: parseRateFlag(f.limit),
          ...(f['max-in-flight'] !== undefined && { maxInFlight: parseMaxInFlight(f['max-in-flight']) }),
        })
      } catch (err) {
        throw inFlagTerms(err, { rateLimit: '--limit' })
      }
    })
    const cap = info.maxInFlight === null ? 'no in-flight cap' : `at most ${info.maxInFlight} in flight`
    this.log(`Agent ${info.name}: rate limit ${info.rateLimit ?? 'none'}, ${cap}`)
    return agentJson(info)
  }
}
