import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * WAL pages the writer lets pile up before it checkpoints by itself (SQLite's default is 1000).
 * With a background checkpointer this is only the backstop for when it cannot keep up.
 */
export const BACKSTOP_PAGES = 20_000

/** How often a background checkpoint runs (the writer thread's: at most this often). */
export const CHECKPOINT_INTERVAL_MS = 200

/** The writer's own threshold when there is no background checkpointer (SQLite's default). */
export const INLINE_PAGES = 1000

/**
 * The worker's whole program. Plain CommonJS in an eval worker, so it runs the same from the
 * sources and from the build. It opens its own connection to the ledger and copies committed WAL
 * frames into the database every `intervalMs` (PASSIVE: it never waits for, or blocks, the writer).
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 0')
const run = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // busy or locked: the next tick tries again
  }
}
const timer = setInterval(run, workerData.intervalMs)
parentPort.on('message', (message) => {
  if (message !== 'stop') return
  clearInterval(timer)
  run()
  db.close()
  parentPort.close()
})
`

/**
 * Checkpoints a WAL-mode SQLite file from a worker thread, so the copy into the database file and
 * its fsync — several milliseconds, many times a second under load — never stall the event loop
 * that commits the writes. `onExit` runs if the worker stops on its own (it could not open the
 * file, or died): the caller then hands checkpointing back to the writer.
 */
export class BackgroundCheckpointer {
  readonly #worker: Worker
  #stopping: Promise<void> | null = null
  #exited = false

  constructor(file: string, onExit: (error?: Error) => void, intervalMs = CHECKPOINT_INTERVAL_MS) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    this.#worker = new Worker(PROGRAM, {
      eval: true,
      workerData: { file, driver, intervalMs },
      // It allocates next to nothing: keep its heap (and the process's memory) small.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16, codeRangeSizeMb: 4 },
    })
    this.#worker.unref()
    let failure: Error | undefined
    this.#worker.on('error', (error) => {
      failure = error
    })
    this.#worker.on('exit', () => {
      this.#exited = true
      if (this.#stopping === null) onExit(failure ?? new Error('checkpointer stopped'))
    })
  }

  /** Runs a last checkpoint and stops the worker. */
  stop(): Promise<void> {
    this.#stopping ??= this.#exited
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#worker.once('exit', () => resolve())
          // Keep the process alive until the worker has finished (it is unref'd while it runs).
          this.#worker.ref()
          this.#worker.postMessage('stop')
        })
    return this.#stopping
  }
}
