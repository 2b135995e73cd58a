/**
 * The writer thread's program (`writer: 'worker'`): its own connection to the ledger, the batch
 * transaction of `sqliteBatchWriter`, and the extensions rebuilt from their descriptors. Started
 * by `writer-thread.ts` through a small bootstrap that hands it the module loader (see there).
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { ROW_WIDTH } from './rows.js'
import { type BatchExtension, sqliteBatchWriter } from './sqlite-batch.js'
import type { Reply, WorkerBatch, WriterData } from './writer-protocol.js'

/** About 4 000 rows: larger transactions gain nothing, and the thread's heap stays small. */
const MAX_MERGED_VALUES = 4000 * ROW_WIDTH

type Load = (url: string) => Promise<Record<string, unknown>>

interface Counted {
  counters?: Record<string, unknown>
}

/** A copy of the numeric counters an extension keeps (the webhook outbox: dropped, coalesced). */
function snapshot(extension: Counted): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, value] of Object.entries(extension.counters ?? {}))
    if (typeof value === 'number') out[key] = value
  return out
}

export async function runWriter(load: Load): Promise<void> {
  const port = parentPort
  if (port === null) throw new Error('the ledger writer runs in a worker thread')
  const data = workerData as WriterData
  const db = new Database(data.file, { fileMustExist: true })
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`)
  db.pragma('synchronous = NORMAL')
  db.pragma(`cache_size = -${data.cacheKiB}`)
  db.pragma(`wal_autocheckpoint = ${data.autocheckpointPages}`)
  const extensions: (BatchExtension & Counted)[] = []
  for (const descriptor of data.extensions) {
    const Make = (await load(descriptor.module))[descriptor.export]
    if (typeof Make !== 'function')
      throw new Error(`${descriptor.module} has no export ${JSON.stringify(descriptor.export)}`)
    const extension = new (Make as new (options: unknown) => BatchExtension & Counted)(descriptor.options)
    ;(extension as { attach?: (db: Database.Database) => void }).attach?.(db)
    extensions.push(extension)
  }
  const write = sqliteBatchWriter(db, extensions)
  const last = extensions.map(snapshot)

  /** Counter changes since the previous reply, or null when nothing moved (the usual case). */
  const counterDeltas = (): Array<Record<string, number>> | null => {
    let deltas: Array<Record<string, number>> | null = null
    extensions.forEach((extension, i) => {
      const now = snapshot(extension)
      const before = last[i] ?? {}
      for (const [key, value] of Object.entries(now)) {
        const delta = value - (before[key] ?? 0)
        if (delta !== 0) {
          deltas ??= extensions.map(() => ({}))
          ;(deltas[i] as Record<string, number>)[key] = delta
        }
      }
      last[i] = now
    })
    return deltas
  }

  // Checkpoints are not this thread's: the background checkpointer copies the WAL into the
  // database on a connection and a thread of its own, so no commit here ever waits for that copy
  // and its fsync (several ms, five times a second under load: the gate's p99).
  const stop = (): void => {
    port.removeAllListeners('message')
    db.close()
    port.close()
  }

  port.on('message', (first: WorkerBatch | 'close') => {
    if (first === 'close') return stop()
    // Whatever arrived while the previous transaction committed joins this one, up to a bound: a
    // producer that does not wait for its appends must not grow one transaction (and this heap)
    // without end; what is left waits in the port for the next transaction.
    const batches: WorkerBatch[] = [first]
    let values = first[0].length + first[1].length
    let closing = false
    while (values < MAX_MERGED_VALUES) {
      const next = receiveMessageOnPort(port)
      if (next === undefined) break
      if (next.message === 'close') {
        closing = true
        break
      }
      const batch = next.message as WorkerBatch
      batches.push(batch)
      values += batch[0].length + batch[1].length
    }
    const rows = batches.length === 1 ? first[0] : batches.flatMap((b) => b[0])
    const completions = batches.length === 1 ? first[1] : batches.flatMap((b) => b[1])
    let reply: Reply
    try {
      const { ids, completed } = write(rows, completions)
      const firstId = ids[0] ?? 0
      // AUTOINCREMENT ids of one transaction are consecutive: two numbers say them all.
      const consecutive = ids.every((id, i) => id === firstId + i)
      reply = [batches.length, consecutive ? firstId : ids, completed, counterDeltas()]
    } catch (error) {
      const e = error as { message?: unknown; code?: unknown }
      reply = [batches.length, null, String(e?.message ?? error), typeof e?.code === 'string' ? e.code : null]
    }
    port.postMessage(reply)
    if (closing) stop()
  })
}
