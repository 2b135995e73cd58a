/**
 * What the event loop and the writer thread say to each other (`writer: 'worker'`). Everything is
 * structured-cloned, so it is kept to flat arrays: one message per batch, not one per row.
 */

/** How the writer thread rebuilds an extension: `new (await import(module))[export](options)`. */
export interface WorkerExtensionDescriptor {
  /** File URL of an ES module the writer thread can import (a `.ts` file only from the sources). */
  readonly module: string
  /** The exported class; constructed with `options`, then attached to the thread's connection. */
  readonly export: string
  /** Anything structured-cloneable. */
  readonly options?: unknown
}

export interface WriterData {
  file: string
  busyTimeoutMs: number
  cacheKiB: number
  /**
   * The thread's `wal_autocheckpoint`: SQLite's own threshold when nothing else checkpoints, the
   * backstop when the background checkpointer (a thread of its own) does.
   */
  autocheckpointPages: number
  extensions: readonly WorkerExtensionDescriptor[]
}

/** Event loop → thread: flat rows (`pushRow`) and flat completions (`pushCompletion`). */
export type WorkerBatch = [rows: unknown[], completions: unknown[]]

/**
 * Thread → event loop, once per transaction, covering the next `batches` batches sent:
 * committed: the first id (the others follow it) or every id, completions applied, and the
 * extensions' counter changes (null when none); failed: null, the error's message and code.
 */
export type Reply =
  | [
      batches: number,
      ids: number | number[],
      completed: number,
      counters: Array<Record<string, number>> | null,
    ]
  | [batches: number, failed: null, message: string, code: string | null]
