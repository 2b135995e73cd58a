import { escapeUnprintable } from '@aegis/guard'
import type { LedgerStats } from '@aegis/ledger'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { sinceFlag, withLedger } from '../../lib/ledger-file.js'

function breakdown(title: string, counts: Record<string, number>): string[] {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return []
  return [`${title}:`, ...entries.map(([key, n]) => `  ${escapeUnprintable(key).padEnd(24)} ${n}`)]
}

export default class LedgerStatsCommand extends AegisCommand<typeof LedgerStatsCommand> {
  static override summary = 'Summarise the audit ledger: totals by decision, service, agent and refusal code'
  static override examples = [
    '<%= config.bin %> ledger stats',
    '<%= config.bin %> ledger stats --agent research-bot --since 2026-03-01',
  ]

  static override flags = {
    agent: Flags.string({ description: 'Only requests made by this agent' }),
    service: Flags.string({ description: 'Only requests for this service' }),
    since: Flags.string({ description: 'From this date (YYYY-MM-DD, UTC) or ISO 8601 time' }),
  }

  async run(): Promise<LedgerStats> {
    const { flags } = this
    const since = sinceFlag(flags.since)
    const stats = await this.withStorage((storage) =>
      withLedger(storage, (ledger) => ledger.stats({ agent: flags.agent, service: flags.service, since })),
    )
    this.log(
      [
        `Requests: ${stats.total}  (allowed ${stats.allowed}, blocked ${stats.blocked}, failed ${stats.failed})`,
        `System events: ${stats.system}`,
        ...breakdown('By service', stats.byService),
        ...breakdown('By agent', stats.byAgent),
        ...breakdown('By refusal code', stats.byCode),
      ].join('\n'),
    )
    return stats
  }
}
