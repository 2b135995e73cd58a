import type { AuditSink } from './audit.js'
import { describeError } from './errors.js'
import type { Logger } from './logger.js'

/**
 * Whether the audit ledger can be written, as the gate's health answer reports it. The engine
 * tells it how each ledger write went (a field write, no database read on the hot path). While
 * the ledger is failing, every request is refused `ledger_unavailable`, so a load balancer must see
 * 503; and once it sends no traffic, nothing but a health call can notice the ledger is back — so
 * a health call then tries one `ledger_recovered` system row, at most one at a time and at most
 * once per `probeIntervalMs`: a flood of health calls costs the database one write a second.
 */
export class LedgerHealth {
  readonly #logger: Logger
  readonly #probeIntervalMs: number
  /** When the current outage began (ms), or null while the ledger is being written. */
  #failedSince: number | null = null
  #probing = false
  #lastProbeAt = Number.NEGATIVE_INFINITY

  constructor(logger: Logger, probeIntervalMs = 1000) {
    this.#logger = logger
    this.#probeIntervalMs = probeIntervalMs
  }

  /** True while the last ledger write failed. */
  get failing(): boolean {
    return this.#failedSince !== null
  }

  /** A ledger write succeeded (every request calls this: nothing but a field read unless failing). */
  written(now?: number): void {
    if (this.#failedSince === null) return
    const downMs = (now ?? Date.now()) - this.#failedSince
    this.#failedSince = null
    this.#logger.info({ downMs }, 'audit ledger writable again: serving requests')
  }

  /** A ledger write failed. */
  failed(now = Date.now()): void {
    if (this.#failedSince !== null) return
    this.#failedSince = now
    this.#logger.error(
      'audit ledger cannot be written: every request is refused (ledger_unavailable) and /_aegis/health answers 503 until a write succeeds',
    )
  }

  /** Called by a health request while failing: one bounded write attempt to notice recovery. */
  probe(audit: AuditSink, now = Date.now()): void {
    const since = this.#failedSince
    if (since === null || this.#probing || now - this.#lastProbeAt < this.#probeIntervalMs) return
    this.#probing = true
    this.#lastProbeAt = now
    audit
      .system('ledger_recovered', `ledger writable again after ${now - since} ms`)
      .then(
        () => this.written(),
        (error: unknown) => this.#logger.debug({ err: describeError(error) }, 'ledger still unwritable'),
      )
      .finally(() => {
        this.#probing = false
      })
  }
}
