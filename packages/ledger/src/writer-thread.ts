import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { CompletionDelay } from './group-commit.js'
import { COMPLETION_WIDTH, type CompleteParams, type EntryRow, pushCompletion, pushRow } from './rows.js'
import type { LedgerMetrics } from './types.js'
import type { Reply, WorkerBatch, WriterData } from './writer-protocol.js'

/**
 * Starts the writer program in the thread. Plain CommonJS in an eval worker (as the checkpointer
 * was), so one way works from the build and from the sources: the build imports the built
 * `writer-worker.js`; the sources (vitest, `bin/dev.js`) are TypeScript, which Node 20 cannot
 * import in a worker (loader hooks do not reach worker threads), so there they go through tsx's
 * CommonJS `require` (a dev dependency; `src/` is not published). Extension modules load the same way.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads')
const { fileURLToPath } = require('node:url')
const tsx = workerData.tsx === null ? null : require(workerData.tsx)
const load = (url) =>
  tsx !== null && url.endsWith('.ts') ? Promise.resolve(tsx.require(fileURLToPath(url), __filename)) : import(url)
load(workerData.program).then((program) => program.runWriter(load))
`

const fromSources = import.meta.url.endsWith('.ts')
/** The program beside this module: `writer-worker.ts` in src/, `writer-worker.js` in dist/. */
const PROGRAM = new URL(`./writer-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url).href

interface Waiter {
  resolve: (id: number) => void
  reject: (error: unknown) => void
}

/** One batch sent to the thread and not answered yet. */
interface InFlight {
  waiters: Waiter[]
  completions: number
  /** Called with the batch's outcome (every `flush` waiting for it). */
  settled: Array<(error: Error | null) => void> | null
}

interface Counted {
  readonly counters?: unknown
}

/**
 * Group commit with the transaction in a worker thread (`writer: 'worker'`): the event loop only
 * validates rows and queues them as flat values; once per event-loop turn it posts what is queued
 * (one message) and the thread commits it, merged with whatever else arrived while it was busy.
 * An append settles when the reply for its batch arrives: resolved with its id after the commit,
 * rejected when that transaction failed. A thread that stops (crash, exit, out of memory) rejects
 * everything waiting and every later append: the ledger fails closed rather than let an append hang
 * or a request go unaudited.
 */
export class ThreadWriter {
  readonly #worker: Worker
  readonly #wrapError: (cause: unknown) => Error
  readonly #extensions: readonly Counted[]
  #rows: unknown[] = []
  #completions: unknown[] = []
  #waiters: Waiter[] = []
  #timer: NodeJS.Immediate | null = null
  /** Completions queued with no append to ride with: they are posted at the latest when this fires. */
  readonly #delay = new CompletionDelay(() => this.#send())
  readonly #inFlight: InFlight[] = []
  /** Appends and completions sent and not answered yet (part of `metrics.pending`). */
  #sentPending = 0
  #dead: Error | null = null
  readonly #exited: Promise<void>
  #closing = false
  readonly #counters = { batches: 0, appended: 0, completed: 0, failedBatches: 0, droppedCompletes: 0 }

  /**
   * `extensions`: the event loop's counterparts of the thread's extensions, in the same order;
   * the thread's counter changes (numbers under `counters`) are added to theirs.
   */
  constructor(data: WriterData, extensions: readonly Counted[], wrapError: (cause: unknown) => Error) {
    this.#wrapError = wrapError
    this.#extensions = extensions
    const tsx = fromSources ? createRequire(import.meta.url).resolve('tsx/cjs/api') : null
    this.#worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { ...data, program: PROGRAM, tsx },
      // From the sources, workspace packages resolve to theirs too (as vitest's aliases do), so an
      // extension's imports need no build either.
      ...(fromSources ? { execArgv: ['--conditions=@aegis/source'] } : {}),
      // Rows pass through in small batches, so a small young generation is enough: the process's
      // peak RSS under load was ~5 MB lower with 2 MB than with 8 MB (bench/results/2026-12-06-ledger-worker.md).
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 },
    })
    // Held open only while a batch is out (see #track), so an idle ledger never keeps a process alive.
    this.#worker.unref()
    let failure: Error | undefined
    this.#worker.on('message', (reply: Reply) => this.#settle(reply))
    this.#worker.on('error', (error) => {
      failure = error
    })
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', () => {
        this.#die(failure ?? new Error('The ledger writer thread stopped'))
        resolve()
      })
    })
  }

  /** Queues a row; resolves with its id once the transaction holding it committed. */
  append(row: EntryRow): Promise<number> {
    if (this.#dead !== null) return Promise.reject(this.#wrapError(this.#dead))
    pushRow(this.#rows, row)
    const promise = new Promise<number>((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
    })
    this.#schedule()
    return promise
  }

  /** Queues a completion (fire-and-forget). */
  complete(params: CompleteParams): void {
    if (this.#dead !== null) {
      this.#counters.droppedCompletes++
      return
    }
    pushCompletion(this.#completions, params)
    // With an append queued they ride in its batch; else they wait a little for one (a batch of
    // their own costs a wake-up of the thread, a transaction and a reply).
    if (this.#waiters.length === 0) this.#delay.arm()
  }

  /** Counts a completion that was never queued. */
  drop(): void {
    this.#counters.droppedCompletes++
  }

  /** Sends what is queued and waits for every batch sent; rejects when the last one failed. */
  async flush(): Promise<void> {
    const sent = this.#send()
    if (sent !== null) throw sent
    const last = this.#inFlight.at(-1)
    if (last === undefined) return
    const error = await new Promise<Error | null>((resolve) => {
      last.settled ??= []
      last.settled.push(resolve)
    })
    if (error !== null) throw error
  }

  metrics(): LedgerMetrics {
    const queued = this.#waiters.length + this.#completions.length / COMPLETION_WIDTH
    return { ...this.#counters, pending: queued + this.#sentPending }
  }

  /** Flushes, then stops the thread (it closes its connection). Resolves even if the flush failed. */
  async close(): Promise<void> {
    this.#closing = true
    try {
      await this.flush()
    } finally {
      this.#delay.stop()
      if (this.#dead === null) {
        this.#worker.ref()
        this.#worker.postMessage('close')
      }
      await this.#exited
    }
  }

  #schedule(): void {
    if (this.#timer === null) {
      this.#timer = setImmediate(() => {
        this.#timer = null
        this.#send()
      })
    }
  }

  /** Posts everything queued as one batch. Returns the error it was rejected with, if any. */
  #send(): Error | null {
    if (this.#timer !== null) {
      clearImmediate(this.#timer)
      this.#timer = null
    }
    this.#delay.disarm()
    if (this.#waiters.length === 0 && this.#completions.length === 0) return null
    const batch: WorkerBatch = [this.#rows, this.#completions]
    const inFlight: InFlight = {
      waiters: this.#waiters,
      completions: this.#completions.length / COMPLETION_WIDTH,
      settled: null,
    }
    this.#rows = []
    this.#completions = []
    this.#waiters = []
    this.#sentPending += inFlight.waiters.length + inFlight.completions
    if (this.#dead !== null) return this.#fail(inFlight, this.#wrapError(this.#dead))
    if (this.#inFlight.length === 0) this.#worker.ref()
    this.#inFlight.push(inFlight)
    this.#worker.postMessage(batch)
    return null
  }

  #settle(reply: Reply): void {
    const [count, ids] = reply
    if (ids === null) {
      const cause = Object.assign(new Error(reply[2]), reply[3] === null ? {} : { code: reply[3] })
      const error = this.#wrapError(cause)
      this.#counters.failedBatches++
      for (let i = 0; i < count; i++) {
        const batch = this.#inFlight.shift()
        if (batch !== undefined) this.#fail(batch, error)
      }
    } else {
      const completed = reply[2]
      let next = typeof ids === 'number' ? ids : 0
      let at = 0
      let completions = 0
      for (let i = 0; i < count; i++) {
        const batch = this.#inFlight.shift()
        if (batch === undefined) break
        for (const waiter of batch.waiters) {
          waiter.resolve(typeof ids === 'number' ? next++ : (ids[at++] ?? 0))
        }
        this.#counters.appended += batch.waiters.length
        this.#sentPending -= batch.waiters.length + batch.completions
        completions += batch.completions
        for (const settle of batch.settled ?? []) settle(null)
      }
      this.#counters.batches++
      this.#counters.completed += completed
      this.#counters.droppedCompletes += completions - completed
      if (reply[3] !== null) this.#addCounters(reply[3])
    }
    if (this.#inFlight.length === 0 && !this.#closing) this.#worker.unref()
  }

  #fail(batch: InFlight, error: Error): Error {
    this.#sentPending -= batch.waiters.length + batch.completions
    this.#counters.droppedCompletes += batch.completions
    for (const waiter of batch.waiters) waiter.reject(error)
    for (const settle of batch.settled ?? []) settle(error)
    return error
  }

  #addCounters(deltas: Array<Record<string, number>>): void {
    deltas.forEach((delta, i) => {
      const counters = this.#extensions[i]?.counters as Record<string, number> | undefined
      if (counters === undefined) return
      for (const [key, value] of Object.entries(delta))
        if (typeof counters[key] === 'number') counters[key] += value
    })
  }

  /** The thread is gone: everything waiting fails, and so does everything later. */
  #die(cause: Error): void {
    this.#dead = cause
    const error = this.#wrapError(cause)
    for (const batch of this.#inFlight.splice(0)) this.#fail(batch, error)
    if (this.#timer !== null) {
      clearImmediate(this.#timer)
      this.#timer = null
    }
    this.#send()
  }
}
