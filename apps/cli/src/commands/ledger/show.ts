import { authorizeLedgerRead, LEDGER_VIEW_ROWS } from '@aegis/access'
import type { LedgerEntry } from '@aegis/ledger'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { sinceFlag, withLedger } from '../../lib/ledger-file.js'
import { permissionDenied } from '../../lib/rbac.js'
import { renderTable } from '../../lib/table.js'

export default class LedgerShow extends AegisCommand<typeof LedgerShow> {
  static override summary = 'Show recent audit ledger entries, newest first'
  static override description =
    `A view (ledger:read) of the newest entries, up to ${LEDGER_VIEW_ROWS}. More than ${LEDGER_VIEW_ROWS}, or --json (entries as data), is an export and needs ledger:export, as aegis ledger export does.`
  static override examples = [
    '<%= config.bin %> ledger show',
    '<%= config.bin %> ledger show --service slack --limit 50',
    '<%= config.bin %> ledger show --blocked --since 2026-03-01',
    '<%= config.bin %> ledger show --system',
  ]

  static override flags = {
    service: Flags.string({ description: 'Only requests for this service' }),
    agent: Flags.string({ description: 'Only requests made by this agent' }),
    blocked: Flags.boolean({ description: 'Only refused requests', exclusive: ['system'] }),
    system: Flags.boolean({ description: 'Only gate start and stop events', exclusive: ['blocked'] }),
    since: Flags.string({ description: 'From this date (YYYY-MM-DD, UTC) or ISO 8601 time' }),
    limit: Flags.integer({
      description: `How many entries (above ${LEDGER_VIEW_ROWS}: needs ledger:export)`,
      default: 20,
      min: 1,
      max: 100_000,
    }),
  }

  async run(): Promise<LedgerEntry[]> {
    const { flags } = this
    // ledger:read let the command start; what it is about to read may be an export (@aegis/access).
    if (this.actor !== null) {
      const decision = authorizeLedgerRead(this.actor, { reach: flags.limit })
      if (!decision.allowed) this.fail(permissionDenied(decision.reason))
    }
    const since = sinceFlag(flags.since)
    const rows = await this.withStorage((storage) =>
      withLedger(storage, (ledger) =>
        ledger.query({
          service: flags.service,
          agent: flags.agent,
          blocked: flags.blocked || undefined,
          system: flags.system || undefined,
          since,
          limit: flags.limit,
        }),
      ),
    )
    if (rows.length === 0) {
      this.log('No ledger entries match.')
    } else {
      this.log(
        renderTable(
          ['TIME', 'DECISION', 'STATUS', 'CODE', 'AGENT', 'SERVICE', 'METHOD', 'PATH', 'MS'],
          rows.map((e) => [
            e.time,
            e.dryRun ? `${e.decision} (dry-run: ${e.dryRun})` : e.decision,
            e.status === null ? '' : String(e.status),
            e.code ?? e.event ?? '',
            e.agent ?? '',
            e.service ?? '',
            e.method ?? '',
            e.path ?? e.detail ?? '',
            e.durationMs === null ? '' : String(e.durationMs),
          ]),
        ),
      )
    }
    return rows
  }
}
