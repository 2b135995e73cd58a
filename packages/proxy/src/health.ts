import { type Refusal, refuse } from '@aegis/guard'
import type { AuditSink } from './audit.js'
import type { LedgerHealth } from './ledger-health.js'
import type { LiveState } from './snapshot.js'
import { SEALED } from './stages/sealed.js'

/**
 * Whether the pipeline can serve: what the HTTP gate's `/_aegis/health` and the MCP `aegis_health`
 * tool both report. Anything but `ok` means every request would be refused.
 */
export interface HealthReport {
  /** `draining` before `sealed` before `ledger_unavailable`: the first reason requests are refused. */
  status: 'ok' | 'draining' | 'sealed' | 'ledger_unavailable'
  sealed: boolean
  /** `unavailable` from the first failed ledger write until one succeeds. */
  ledger: 'ok' | 'unavailable'
  /** Credentials being served (0 while sealed). */
  credentials: number
  /** The refusal a request gets in this state (the MCP tool answers with it); null when `ok`. */
  refusal: Refusal | null
}

const REFUSALS = {
  draining: refuse('shutting_down', 'Aegis is shutting down'),
  sealed: SEALED,
  ledger_unavailable: refuse(
    'ledger_unavailable',
    'The audit ledger cannot be written: every request is refused until a write succeeds',
  ),
} as const

/**
 * The one health check. While the ledger is failing, a health call also tries one bounded write
 * (see `LedgerHealth.probe`), so a gate no traffic reaches any more still notices recovery.
 */
export function healthReport(
  state: LiveState,
  ledgerHealth: LedgerHealth | undefined,
  audit: AuditSink,
  draining: boolean,
  now = Date.now(),
): HealthReport {
  const sealed = state.isSealed()
  const ledgerFailing = ledgerHealth?.failing ?? false
  if (ledgerFailing && !draining) ledgerHealth?.probe(audit, now)
  const status = draining ? 'draining' : sealed ? 'sealed' : ledgerFailing ? 'ledger_unavailable' : 'ok'
  return {
    status,
    sealed,
    ledger: ledgerFailing ? 'unavailable' : 'ok',
    credentials: sealed ? 0 : state.current.byService.size,
    refusal: status === 'ok' ? null : REFUSALS[status],
  }
}
