import type { BatchResult } from '../group-commit.js'
import type { LedgerMetrics } from '../types.js'

/** Writes a whole batch in ONE transaction; rejects when it failed (then nothing was written). */
export type AsyncBatchWriter<Row, Completion> = (
  rows: Row[],
  completions: Completion[],
) => Promise<BatchResult>

interface Waiter<Row> {
  row: Row
  resolve: (id: number) => void
  reject: (error: unknown) => void
}

export interface BatcherOptions {
  /** Most appends in one transaction. */
  maxBatch: number
  /** How long completions wait for an append to ride with before they get a transaction of their own. */
  completionDelayMs: number
  /**
   * Whether a failed batch failed because the server could not be reached (then its completions
   * are kept for the next batch), rather than because of what it wrote (then they are dropped: a
   * completion the server refuses must not fail every later batch). Default: never.
   */
  unreachable?: (cause: unknown) => boolean
  /** How long completions kept after an unreachable server wait before they try alone again. */
  retryDelayMs?: number
}

/** Most completions in one transaction (a backlog after an outage is written in pieces). */
const MAX_COMPLETIONS = 5000

/** Most completions kept while the server is away; beyond it the oldest are dropped (and counted). */
const MAX_KEPT_COMPLETIONS = 50_000

/**
 * Group commit over a network round trip. One transaction is in flight at a time; appends that
 * arrive while it commits form the next batch, so the batch grows with the load and a request
 * waits for at most one commit before its own. An append's promise settles only after its
 * transaction committed (resolve with its id) or failed (reject — every append of that batch).
 * Completions ride in the next append batch, or, when no append comes within
 * `completionDelayMs`, in one of their own. A batch that failed because the server was away keeps
 * its completions for the next batch (an outage must not leave the rows of requests that were
 * forwarded before it without their outcome); one that failed for what it wrote drops and counts them.
 */
export class AsyncGroupCommit<Row, Completion> {
  private waiters: Waiter<Row>[] = []
  private completions: Completion[] = []
  /** A write loop is running (set and cleared synchronously, so no append is ever stranded). */
  private busy = false
  private current: Promise<void> = Promise.resolve()
  private immediate: NodeJS.Immediate | null = null
  private timer: NodeJS.Timeout | null = null
  private lastError: Error | null = null
  /** The last batch failed for an unreachable server: completions alone wait `retryDelayMs`. */
  private away = false
  /** `discard` was called: nothing is kept or retried any more. */
  private discarded = false
  private readonly counters = { batches: 0, appended: 0, completed: 0, failedBatches: 0, droppedCompletes: 0 }

  constructor(
    private readonly write: AsyncBatchWriter<Row, Completion>,
    private readonly wrapError: (cause: unknown) => Error,
    private readonly options: BatcherOptions,
  ) {}

  /** Queues a row; resolves with its id once the batch holding it committed. */
  append(row: Row): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiters.push({ row, resolve, reject })
      // Everything appended in this event-loop turn goes into one batch.
      if (!this.busy && this.immediate === null) this.immediate = setImmediate(() => this.start())
    })
  }

  /** Queues a completion (fire-and-forget). */
  complete(completion: Completion): void {
    this.completions.push(completion)
    if (!this.busy && this.immediate === null) this.arm()
  }

  /** Counts a completion that was never queued (e.g. after close or with a bad id). */
  drop(): void {
    this.counters.droppedCompletes++
  }

  /**
   * Writes everything queued now (completions included, without their delay) and waits for it.
   * Rejects with the error of a batch that failed meanwhile (its appends were rejected too).
   */
  async flush(): Promise<void> {
    const failedBefore = this.counters.failedBatches
    // Kept completions would be tried for ever while the server is away: one failure ends it.
    while (
      (this.busy || this.waiters.length > 0 || this.completions.length > 0) &&
      this.counters.failedBatches === failedBefore
    ) {
      if (!this.busy) this.start()
      await this.current
    }
    if (this.counters.failedBatches > failedBefore && this.lastError) throw this.lastError
  }

  metrics(): LedgerMetrics {
    return { ...this.counters, pending: this.waiters.length + this.completions.length }
  }

  /** Drops what is still queued (counted) and the timers: the host is closing. Appends reject. */
  discard(error: Error): void {
    this.discarded = true
    if (this.immediate !== null) clearImmediate(this.immediate)
    if (this.timer !== null) clearTimeout(this.timer)
    this.immediate = null
    this.timer = null
    this.counters.droppedCompletes += this.completions.length
    this.completions = []
    for (const w of this.waiters.splice(0)) w.reject(error)
  }

  private arm(): void {
    if (this.timer !== null || this.discarded) return
    const delay = this.away ? (this.options.retryDelayMs ?? 1000) : this.options.completionDelayMs
    this.timer = setTimeout(() => this.start(), delay)
  }

  private start(): void {
    if (this.immediate !== null) clearImmediate(this.immediate)
    if (this.timer !== null) clearTimeout(this.timer)
    this.immediate = null
    this.timer = null
    if (this.busy) return
    this.busy = true
    this.current = this.loop()
  }

  private async loop(): Promise<void> {
    try {
      do {
        const waiters = this.waiters.splice(0, this.options.maxBatch)
        const completions = this.completions.splice(0, MAX_COMPLETIONS)
        if (waiters.length > 0 || completions.length > 0) await this.writeOne(waiters, completions)
      } while (this.waiters.length > 0)
    } finally {
      // No await between the last look at the queue and this: an append made from a resolved
      // append's continuation either was seen above or finds `busy` false and schedules itself.
      this.busy = false
      if (this.completions.length > 0) this.arm()
    }
  }

  private async writeOne(waiters: Waiter<Row>[], completions: Completion[]): Promise<void> {
    let result: BatchResult
    try {
      result = await this.write(
        waiters.map((w) => w.row),
        completions,
      )
    } catch (cause) {
      const error = this.wrapError(cause)
      this.lastError = error
      this.counters.failedBatches++
      this.away = this.options.unreachable?.(cause) ?? false
      if (this.away && !this.discarded) this.keep(completions)
      else this.counters.droppedCompletes += completions.length
      for (const w of waiters) w.reject(error)
      return
    }
    this.away = false
    this.counters.batches++
    this.counters.appended += waiters.length
    this.counters.completed += result.completed
    this.counters.droppedCompletes += completions.length - result.completed
    waiters.forEach((w, i) => {
      w.resolve(result.ids[i] ?? 0)
    })
  }

  /** Puts the completions of a batch the server never saw back in front of the queue, bounded. */
  private keep(completions: Completion[]): void {
    this.completions = completions.concat(this.completions)
    const over = this.completions.length - MAX_KEPT_COMPLETIONS
    if (over > 0) {
      this.completions.splice(0, over)
      this.counters.droppedCompletes += over
    }
  }
}
