import { statSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Ledger, LedgerError, type LedgerExtension, openLedger } from '../src/index.js'
import { type MirrorOptions, mirrorDescriptor } from './fixtures/mirror-extension.js'
import { entry, tempLedgerFile } from './helpers.js'

const opened: Ledger[] = []
const readers: Database.Database[] = []
afterEach(async () => {
  for (const db of readers.splice(0)) db.close()
  for (const ledger of opened.splice(0)) await ledger.close()
})

/** The event loop's half of a mirror extension: counters only (the thread does the writing). */
function mirror(options: MirrorOptions = {}): LedgerExtension & { counters: { mirrored: number } } {
  return {
    counters: { mirrored: 0 },
    attach: () => {},
    written: () => {
      throw new Error('must run in the writer thread')
    },
    worker: mirrorDescriptor(options),
  }
}

function open(file: string, extensions: LedgerExtension[] = []): Ledger {
  const ledger = openLedger({ file, writer: 'worker', extensions })
  opened.push(ledger)
  return ledger
}

function reader(file: string): Database.Database {
  const db = new Database(file, { readonly: true })
  readers.push(db)
  return db
}

/** Settles within `ms` or says it hung. */
function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms),
    ),
  ])
}

describe("writer: 'worker'", () => {
  it('commits off the event loop: timers keep firing while a slow transaction runs', async () => {
    const file = tempLedgerFile()
    const ledger = open(file, [mirror({ sleepMs: 400 })])
    await ledger.append(entry()) // the thread is up
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    try {
      await ledger.append(entry({ path: '/sleep' }))
    } finally {
      clearInterval(timer)
    }
    // Inline, the 400 ms transaction would hold the event loop: no tick at all.
    expect(ticks).toBeGreaterThanOrEqual(10)
  })

  it('flush() called twice while a batch is out: both settle', async () => {
    const ledger = open(tempLedgerFile())
    const pending = ledger.append(entry())
    await within(Promise.all([ledger.flush(), ledger.flush(), ledger.flush()]))
    await pending
    expect(ledger.metrics).toMatchObject({ appended: 1, pending: 0 })
  })

  it('counts appends sent to the thread and not answered yet as pending', async () => {
    const ledger = open(tempLedgerFile(), [mirror({ sleepMs: 300 })])
    await ledger.append(entry())
    const slow = ledger.append(entry({ path: '/sleep' }))
    await new Promise((resolve) => setTimeout(resolve, 100)) // sent, the thread still sleeping
    expect(ledger.metrics.pending).toBe(1)
    await slow
    expect(ledger.metrics).toMatchObject({ pending: 0, appended: 2 })
  })

  it('checkpoints on the checkpointer thread (checkpoint: background): the database file grows while it writes', async () => {
    const file = tempLedgerFile()
    const ledger = openLedger({ file, writer: 'worker', checkpoint: 'background' })
    opened.push(ledger)
    const before = statSync(file).size
    for (let b = 0; b < 40; b++) await Promise.all(Array.from({ length: 50 }, () => ledger.append(entry())))
    // Far below SQLite's own 1000-page threshold and the writer thread's 20,000-page backstop: only
    // the checkpointer's checkpoints copy pages.
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 64 * 1024), {
      timeout: 3000,
      interval: 50,
    })
  })

  it("an extension's rows commit in the entries' transaction, visible when the append resolves", async () => {
    const file = tempLedgerFile()
    const ext = mirror()
    const ledger = open(file, [ext])
    const db = reader(file)
    const ids = await Promise.all([
      ledger.append(entry()),
      ledger.append(entry()),
      ledger.system('gate_start'),
    ])
    const mirrored = db.prepare('SELECT entry_id FROM mirror ORDER BY entry_id').pluck().all()
    expect(mirrored).toEqual(ids)
    // The thread's counter changes reach the event loop's extension with the reply.
    expect(ext.counters.mirrored).toBe(3)

    const failed = await Promise.allSettled([ledger.append(entry()), ledger.append(entry({ path: '/fail' }))])
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'write_failed' })
    expect(db.prepare('SELECT count(*) FROM entries').pluck().get()).toBe(3)
    expect(db.prepare('SELECT count(*) FROM mirror').pluck().get()).toBe(3)
    expect(ledger.metrics).toMatchObject({ batches: 1, appended: 3, failedBatches: 1 })
    // The thread is still there: the next batch commits.
    const after = await ledger.append(entry())
    expect(db.prepare('SELECT max(entry_id) FROM mirror').pluck().get()).toBe(after)
  })

  it('a thread that dies mid-transaction rejects the waiting appends and every later one', async () => {
    const file = tempLedgerFile()
    const ledger = open(file, [mirror()])
    const first = await ledger.append(entry())
    const dying = await within(
      Promise.allSettled([ledger.append(entry()), ledger.append(entry({ path: '/exit' }))]),
    )
    for (const result of dying) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(LedgerError)
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'write_failed' })
    }
    // Failing closed: nothing is written without the thread, nothing waits for it.
    await expect(within(ledger.append(entry()))).rejects.toMatchObject({ code: 'write_failed' })
    await expect(within(ledger.system('gate_stop'))).rejects.toMatchObject({ code: 'write_failed' })
    ledger.complete(first, { status: 200, durationMs: 1, bytesIn: 0, bytesOut: 0 })
    await expect(within(ledger.flush())).resolves.toBeUndefined()
    expect(ledger.metrics.droppedCompletes).toBe(1)
    // Reads go on; the dead transaction left nothing behind.
    expect(ledger.query({}).map((e) => e.id)).toEqual([first])
    await within(ledger.close())
  })

  it('an extension the thread cannot build fails every append instead of leaving it pending', async () => {
    const file = tempLedgerFile()
    const broken: LedgerExtension = { ...mirror(), worker: { ...mirrorDescriptor(), export: 'NoSuchExport' } }
    const ledger = open(file, [broken])
    const error = await within(ledger.append(entry())).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LedgerError)
    expect(error).toMatchObject({ code: 'write_failed' })
    expect(String((error as Error).cause)).toContain('NoSuchExport')
    await expect(within(ledger.append(entry()))).rejects.toMatchObject({ code: 'write_failed' })
    await within(ledger.close())
    expect(reader(file).prepare('SELECT count(*) FROM entries').pluck().get()).toBe(0)
  })

  it('refuses to open with an extension that cannot run in the thread', () => {
    const inProcessOnly: LedgerExtension = { attach: () => {}, written: () => {} }
    expect(() =>
      openLedger({ file: tempLedgerFile(), writer: 'worker', extensions: [inProcessOnly] }),
    ).toThrow(LedgerError)
  })

  it('close() drains what is queued, then stops the thread; reopening finds every entry', async () => {
    const file = tempLedgerFile()
    const ledger = openLedger({ file, writer: 'worker', checkpoint: 'background' })
    const queued = Array.from({ length: 300 }, (_, i) => ledger.append(entry({ requestId: `q${i}` })))
    await ledger.close()
    const ids = await Promise.all(queued)
    expect(new Set(ids).size).toBe(300)
    const again = openLedger({ file })
    opened.push(again)
    expect(again.stats().total).toBe(300)
  })
})
