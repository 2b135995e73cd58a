import type { LedgerMetrics } from './types.js'

/**
 * How long completions wait for an append batch to ride in before they get a transaction of their
 * own. A completion is best-effort and nothing waits for it, while a batch of its own costs the
 * writer a transaction (and, with the writer thread, a wake-up and a reply): under load about a
 * third of the batches were completions alone.
 */
export const COMPLETION_DELAY_MS = 20

/** What one write of a batch reports back. */
export interface BatchResult {
  /** Row ids, in the order the rows were given. */
  ids: number[]
  /** Completions that updated a row. */
  completed: number
}

/** Writes a whole batch in ONE transaction; throws when the transaction failed (nothing written). */
export type BatchWriter<Row, Completion> = (rows: Row[], completions: Completion[]) => BatchResult

interface Waiter<Row> {
  row: Row
  resolve: (id: number) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: callers enqueue; one flush per event-loop turn (`setImmediate`) hands everything
 * queued to the writer at once. An append's promise settles only after its transaction committed
 * (resolve with its id) or failed (reject — every waiter of that batch). Completions ride along
 * best-effort, in the next append batch or after `COMPLETION_DELAY_MS`: a failed batch drops them
 * and counts them.
 */
export class GroupCommit<Row, Completion> {
  private waiters: Waiter<Row>[] = []
  private completions: Completion[] = []
  private timer: NodeJS.Immediate | null = null
  /** Completions queued with no append to ride with: they go at the latest when this fires. */
  private delay: NodeJS.Timeout | null = null
  private readonly counters = { batches: 0, appended: 0, completed: 0, failedBatches: 0, droppedCompletes: 0 }

  constructor(
    private readonly write: BatchWriter<Row, Completion>,
    private readonly wrapError: (cause: unknown) => Error,
  ) {}

  /** Queues a row; resolves with its id once the batch holding it committed. */
  append(row: Row): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiters.push({ row, resolve, reject })
      this.schedule()
    })
  }

  /** Queues a completion (fire-and-forget). */
  complete(completion: Completion): void {
    this.completions.push(completion)
    if (this.waiters.length > 0 || this.delay !== null) return
    this.delay = setTimeout(() => {
      this.delay = null
      this.flushNow()
    }, COMPLETION_DELAY_MS)
  }

  /** Counts a completion that was never queued (e.g. after close or with a bad id). */
  drop(): void {
    this.counters.droppedCompletes++
  }

  /**
   * Writes everything queued now, in one transaction. Returns the write error (already delivered
   * to the waiters) or null.
   */
  flushNow(): Error | null {
    if (this.timer) {
      clearImmediate(this.timer)
      this.timer = null
    }
    if (this.delay) {
      clearTimeout(this.delay)
      this.delay = null
    }
    const waiters = this.waiters
    const completions = this.completions
    if (waiters.length === 0 && completions.length === 0) return null
    this.waiters = []
    this.completions = []
    let result: BatchResult
    try {
      result = this.write(
        waiters.map((w) => w.row),
        completions,
      )
    } catch (cause) {
      const error = this.wrapError(cause)
      this.counters.failedBatches++
      this.counters.droppedCompletes += completions.length
      for (const w of waiters) w.reject(error)
      return error
    }
    this.counters.batches++
    this.counters.appended += waiters.length
    this.counters.completed += result.completed
    this.counters.droppedCompletes += completions.length - result.completed
    waiters.forEach((w, i) => {
      w.resolve(result.ids[i] ?? 0)
    })
    return null
  }

  metrics(): LedgerMetrics {
    return { ...this.counters, pending: this.waiters.length + this.completions.length }
  }

  private schedule(): void {
    if (this.timer === null) {
      this.timer = setImmediate(() => {
        this.timer = null
        this.flushNow()
      })
    }
  }
}
