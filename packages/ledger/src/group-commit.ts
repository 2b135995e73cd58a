import type { LedgerMetrics } from './types.js'

/**
 * How long completions wait for an append batch to ride in before they get a transaction of their
 * own. A completion is best-effort and nothing waits for it, while a batch of its own costs the
 * writer a transaction (and, with the writer thread, a wake-up and a reply): under load about a
 * third of the batches were completions alone.
 */
export const COMPLETION_DELAY_MS = 20

/**
 * The deadline of completions that wait with no append to ride with: armed when the first of them
 * is queued, disarmed when a batch takes them. One timer for the queue's life, refreshed instead of
 * cleared and set again: under load a batch goes out on nearly every event-loop turn, and clearing
 * a timer that is alone in its list (as this one is) takes the list out of Node's timer queue,
 * which the next arming puts back. A disarmed timer may still fire once, and does nothing.
 */
export class CompletionDelay {
  #timer: NodeJS.Timeout | null = null
  #armed = false
  readonly #fire: () => void

  constructor(fire: () => void) {
    this.#fire = fire
  }

  get armed(): boolean {
    return this.#armed
  }

  /** Fires `COMPLETION_DELAY_MS` from now, unless disarmed before; nothing when already armed. */
  arm(): void {
    if (this.#armed) return
    this.#armed = true
    if (this.#timer === null) this.#timer = setTimeout(expire, COMPLETION_DELAY_MS, this)
    else this.#timer.refresh()
  }

  disarm(): void {
    this.#armed = false
  }

  /** Disarms and drops the timer (the queue is closing). */
  stop(): void {
    this.#armed = false
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  /** @internal The timer fired. */
  expire(): void {
    if (!this.#armed) return
    this.#armed = false
    this.#fire()
  }
}

function expire(delay: CompletionDelay): void {
  delay.expire()
}

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
  private readonly delay = new CompletionDelay(() => this.flushNow())
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
    if (this.waiters.length === 0) this.delay.arm()
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
    this.delay.disarm()
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

  /** Writes everything queued (as `flushNow`) and stops the completion timer. */
  close(): Error | null {
    const error = this.flushNow()
    this.delay.stop()
    return error
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
