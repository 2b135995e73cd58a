import { AegisCommand } from '../../base-command.js'
import { type AgentJson, agentJson } from '../../lib/agent-view.js'
import { renderTable } from '../../lib/table.js'

export default class AgentList extends AegisCommand<typeof AgentList> {
  static override summary = 'List agents with their token prefix, limits and grants (never their tokens)'
  static override examples = ['<%= config.bin %> agent list', '<%= config.bin %> agent list --json']

  async run(): Promise<AgentJson[]> {
    const agents = await this.withVault((vault) => vault.listAgents())
    if (agents.length === 0) {
      this.log('No agents. Register one with: aegis agent add --name <name>')
    } else {
      this.log(
        renderTable(
          ['NAME', 'TOKEN PREFIX', 'RATE LIMIT', 'MAX IN FLIGHT', 'GRANTS'],
          agents.map((a) => [
            a.name,
            `${a.prefix}…`,
            a.rateLimit ?? '-',
            a.maxInFlight === null ? '-' : String(a.maxInFlight),
            a.grants.length === 0 ? '(none)' : a.grants.join(','),
          ]),
        ),
      )
    }
    return agents.map(agentJson)
  }
}
