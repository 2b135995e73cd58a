import { type AllowList, RateLimitedWarning } from '@aegis/guard'
import { attemptDelivery } from './deliver.js'
import type { AttemptOutcome, ClaimedDelivery, RecordResult } from './outbox.js'
import type { OutboxStore } from './outbox-store.js'
import { signingKey } from './secret.js'

/** pino-compatible subset; silent by default (a library never prints). */
export interface RelayLogger {
  warn(object: object, message: string): void
  debug(object: object, message: string): void
}

const SILENT: RelayLogger = { warn() {}, debug() {} }

const RELAY_DEFAULTS = {
  retentionMs: 7 * 86_400_000,
  pruneEveryMs: 3_600_000,
  /** Deliveries deleted per transaction: short, so the ledger's writer never waits long on it. */
  pruneBatch: 500,
  /** Batches per pruning round; a backlog beyond it is taken up again on the next poll. */
  pruneBatchesPerRound: 4,
} as const

export interface RelayOptions {
  /** Either engine's outbox (`sqliteOutboxStore(outbox)` or a `PgOutbox`). */
  outbox: OutboxStore
  /** Turns an endpoint's sealed secret back into the secret (the CLI opens it with the vault key). */
  openSecret: (sealed: Buffer, endpointId: string) => string
  /**
   * Whether `openSecret` can work now (false while the gate is sealed). While false nothing is
   * claimed: the deliveries keep their attempts and go out at the first poll after it turns true,
   * instead of spending the retry schedule on failures no receiver ever saw. Default: always.
   */
  canSign?: () => boolean
  /** Private addresses a webhook may target; none by default. */
  allowPrivate?: AllowList
  /** A delivery that exhausted the schedule (the gate writes a `webhook_exhausted` system entry). */
  onDead?: (delivery: ClaimedDelivery, outcome: AttemptOutcome) => void
  /** Every recorded attempt, for metrics. */
  onResult?: (result: RecordResult) => void
  /** How often the queue is polled when idle. Default 1000 ms. */
  pollMs?: number
  /**
   * How long finished deliveries (succeeded, dead, cancelled) are kept, for `webhook deliveries`
   * and `redeliver`, before the relay deletes them. Default 7 days. Pending ones are never deleted.
   */
  retentionMs?: number
  /** How often the running relay deletes expired deliveries, in batches. Default 1 hour. */
  pruneEveryMs?: number
  /** Deliveries in flight at once, overall; at most one per endpoint. Default 8. */
  concurrency?: number
  timeoutMs?: number
  now?: () => number
  random?: () => number
  lookup?: (host: string) => Promise<{ address: string; family: number }[]>
  logger?: RelayLogger
}

/**
 * Delivers the outbox: claims what is due, makes one attempt each, records the outcome, and
 * claims again as soon as a slot frees. At most `concurrency` attempts are in flight, and at most
 * one per endpoint: a slow endpoint (up to the 15 s attempt timeout) holds up only its own queue,
 * never another endpoint's. One relay per process; it holds nothing in memory that a restart would
 * lose (a claim it never finished comes back when its lease expires).
 */
export class Relay {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<number> | null = null
  /** The running relay's current round (delivering, then pruning). */
  private round: Promise<void> | null = null
  private stopped = true
  /**
   * The last failed round's error, and its warning: at the first failure, then once per 10 s (while
   * the database is away every round fails alike, and a line a second from every gate buried the rest).
   */
  private roundError: unknown = null
  private readonly roundFailures = new RateLimitedWarning((count) =>
    (this.options.logger ?? SILENT).warn(
      { err: (this.roundError as Error).message, suppressed: count - 1 },
      'webhook relay round failed',
    ),
  )
  /** Set by stop(): attempts in flight finish, no new ones are claimed. */
  private halting = false
  /** The attempt in flight per endpoint id. */
  private readonly inFlight = new Map<string, Promise<void>>()
  /** Attempts ended so far: a claim that excluded an endpoint whose attempt ended meanwhile is retried. */
  private ended = 0
  /** When the running relay next deletes expired deliveries (epoch ms; 0: on its first round). */
  private nextPruneAt = 0

  constructor(private readonly options: RelayOptions) {}

  private canSign(): boolean {
    return this.options.canSign?.() ?? true
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.halting = false
    this.schedule(0)
  }

  /** Stops polling and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true
    this.halting = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.running
    await this.round
  }

  /**
   * Attempts everything due now, and what falls due while attempts are in flight; resolves, with
   * how many attempts were made, once nothing is in flight and nothing more is claimable.
   */
  async deliverDue(): Promise<number> {
    if (this.running !== null) return this.running
    this.running = this.drain().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async drain(): Promise<number> {
    const concurrency = this.options.concurrency ?? 8
    const pollMs = this.options.pollMs ?? 1000
    let attempts = 0
    for (;;) {
      // One claim per free slot, each excluding the endpoints in flight: one delivery per endpoint.
      while (!this.halting && this.inFlight.size < concurrency && this.canSign()) {
        const endedBefore = this.ended
        const [delivery] = await this.options.outbox.claim(1, [...this.inFlight.keys()])
        if (delivery === undefined) {
          // Nothing claimable — unless an attempt ended during the claim: its endpoint was excluded
          // and may have more due, so ask again (else a fast endpoint would end the drain early).
          if (this.ended !== endedBefore) continue
          break
        }
        const id = delivery.endpoint.id
        this.inFlight.set(
          id,
          this.attempt(delivery)
            .catch((error: unknown) => {
              ;(this.options.logger ?? SILENT).warn(
                { delivery: delivery.deliveryId, err: (error as Error).message },
                'webhook delivery could not be recorded',
              )
            })
            .finally(() => {
              this.inFlight.delete(id)
              this.ended++
            }),
        )
        attempts++
      }
      if (this.inFlight.size === 0) return attempts
      // Claim again when an attempt ends, or after pollMs for what fell due meanwhile.
      let wake: NodeJS.Timeout | undefined
      await Promise.race([
        ...this.inFlight.values(),
        new Promise<void>((resolve) => {
          wake = setTimeout(resolve, pollMs)
        }),
      ])
      clearTimeout(wake)
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const { outbox, logger = SILENT } = this.options
    let outcome: AttemptOutcome
    try {
      const key = signingKey(this.options.openSecret(delivery.endpoint.sealedSecret, delivery.endpoint.id))
      outcome = await attemptDelivery({
        url: delivery.endpoint.url,
        key,
        payload: delivery.payload,
        allowPrivate: this.options.allowPrivate,
        timeoutMs: this.options.timeoutMs,
        now: this.options.now,
        lookup: this.options.lookup,
      })
    } catch (error) {
      // Sealed since the claim: not an attempt. The claim's lease runs out and the delivery, its
      // attempts untouched, is claimed again once the relay can sign.
      if (!this.canSign()) return
      // The secret could not be opened or read: a failure like any other, retried on schedule.
      outcome = { kind: 'failed', status: null, error: `cannot sign: ${(error as Error).message}` }
    }
    const result = await outbox.record(delivery.deliveryId, outcome, (this.options.random ?? Math.random)())
    this.options.onResult?.(result)
    if (result === 'dead') this.options.onDead?.(delivery, outcome)
    if (result !== 'succeeded') {
      // Why, as the delivery row keeps it (`HTTP 500`, `ECONNREFUSED`, `timed out after …`, the
      // address guard's refusal): never the URL, whose path or query may be a secret.
      const reason = outcome.kind === 'failed' ? outcome.error : 'HTTP 410 (endpoint gone)'
      logger.warn(
        {
          delivery: delivery.deliveryId,
          endpoint: delivery.endpoint.id,
          result,
          status: outcome.status,
          reason,
        },
        'webhook delivery not accepted',
      )
    }
  }

  /**
   * Retention, off the delivery path: between two rounds of the running relay, at most every
   * `pruneEveryMs`, deletes deliveries finished more than `retentionMs` ago in a few short batches;
   * a bigger backlog is taken up again on the next poll.
   */
  private async pruneIfDue(): Promise<void> {
    const now = (this.options.now ?? Date.now)()
    if (this.halting || now < this.nextPruneAt) return
    const before = now - (this.options.retentionMs ?? RELAY_DEFAULTS.retentionMs)
    const { pruneBatch, pruneBatchesPerRound } = RELAY_DEFAULTS
    let deleted = 0
    for (let batch = 0; batch < pruneBatchesPerRound && !this.halting; batch++) {
      const count = await this.options.outbox.prune(before, pruneBatch)
      deleted += count
      if (count < pruneBatch) {
        this.nextPruneAt = now + (this.options.pruneEveryMs ?? RELAY_DEFAULTS.pruneEveryMs)
        break
      }
    }
    if (deleted > 0) (this.options.logger ?? SILENT).debug({ deleted }, 'old webhook deliveries deleted')
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      const round = async () => {
        await this.deliverDue()
        await this.pruneIfDue()
      }
      this.round = round()
        .then(
          () => this.roundFailures.reset(),
          (error: unknown) => {
            this.roundError = error
            this.roundFailures.hit()
          },
        )
        .finally(() => {
          this.round = null
          this.schedule(this.options.pollMs ?? 1000)
        })
    }, ms)
    this.timer.unref()
  }
}
