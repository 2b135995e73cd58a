/** What only the PostgreSQL ledger has: batches over a network round trip, several gates, the pool. */
import { openPool, schemaStatus } from '@aegis/pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../../test-support/pg-url.js'
import { startRelay } from '../../../../test-support/tcp-relay.js'
import {
  LEDGER_PG_MIGRATIONS,
  type LedgerEntry,
  type LedgerEntryInput,
  openPgLedger,
  type PgLedger,
} from '../../src/index.js'
import { useLedgerDatabase } from './helpers.js'

const adminUrl = pgTestUrl('@aegis/ledger PostgreSQL ledger')

function request(overrides: Partial<LedgerEntryInput> = {}): LedgerEntryInput {
  return { requestId: 'q', channel: 'gate', method: 'GET', path: '/p', decision: 'allowed', ...overrides }
}

/** A promise and the function that settles it. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 2000): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe.skipIf(adminUrl === undefined)('PostgreSQL ledger', () => {
  const db = useLedgerDatabase(adminUrl)
  let ledgers: PgLedger[] = []
  const open = (o: Omit<Parameters<typeof openPgLedger>[0], 'pool'> = {}): PgLedger => {
    const ledger = openPgLedger({ pool: db.pool, ...o })
    ledgers.push(ledger)
    return ledger
  }
  const count = async (): Promise<number> =>
    Number((await db.pool.query('SELECT count(*) AS n FROM aegis.ledger_entries')).rows[0].n)

  beforeEach(() => db.empty())
  afterEach(async () => {
    for (const ledger of ledgers) await ledger.close().catch(() => {})
    ledgers = []
  })

  it('migrations: the ledger set is current, counts are bigint and ids an identity', async () => {
    expect(await schemaStatus(db.pool, LEDGER_PG_MIGRATIONS)).toMatchObject({
      set: 'ledger',
      state: 'current',
    })
    const columns = await db.pool.query<{ column_name: string; data_type: string; is_identity: string }>(
      `SELECT column_name, data_type, is_identity FROM information_schema.columns
       WHERE table_schema = 'aegis' AND table_name = 'ledger_entries'`,
    )
    const type = Object.fromEntries(columns.rows.map((c) => [c.column_name, c.data_type]))
    expect(type).toMatchObject({
      id: 'bigint',
      ts: 'bigint',
      time: 'text',
      bytes_out: 'bigint',
      status: 'integer',
    })
    expect(columns.rows.find((c) => c.column_name === 'id')?.is_identity).toBe('YES')
    // A body of more than 2 GiB fits (SQLite integers are 64-bit too).
    const ledger = open()
    const id = await ledger.append(request())
    ledger.complete(id, { durationMs: 1, bytesIn: 0, bytesOut: 5_000_000_000 })
    await ledger.flush()
    expect((await ledger.entries([id]))[0]?.bytesOut).toBe(5_000_000_000)
  })

  it('completions find their rows by index however the table grew since the connection planned them', async () => {
    // One connection, so its plan cache is the one every batch uses. Ten cycles on a small table
    // (past the five executions after which PostgreSQL may keep a generic plan), then the table
    // grows without ANALYZE, as it does under load between two autovacuum runs.
    const pool = openPool({ url: db.url, max: 1 })
    const ledger = openPgLedger({ pool })
    const seqScans = async (): Promise<number> => {
      // The ledger's (only) connection reports its counters when next idle, not at once.
      await pool.query('SELECT pg_stat_force_next_flush()')
      await new Promise((resolve) => setTimeout(resolve, 200))
      const client = await db.pool.connect()
      try {
        await client.query('SELECT pg_stat_clear_snapshot()')
        const r = await client.query(
          "SELECT seq_scan FROM pg_stat_user_tables WHERE schemaname = 'aegis' AND relname = 'ledger_entries'",
        )
        return Number(r.rows[0].seq_scan)
      } finally {
        client.release()
      }
    }
    const cycle = async (): Promise<void> => {
      const ids = await Promise.all([ledger.append(request()), ledger.append(request())])
      for (const id of ids) ledger.complete(id, { status: 200, durationMs: 1, bytesIn: 0, bytesOut: 0 })
      await ledger.flush()
    }
    try {
      for (let i = 0; i < 10; i++) await cycle()
      await db.pool.query(`INSERT INTO aegis.ledger_entries (time, ts, request_id, channel, decision, dry_run)
        SELECT '2026-01-01T00:00:00.000Z', g, 'bulk', 'gate', 'allowed', 'no' FROM generate_series(1, 50000) g`)
      const before = await seqScans()
      for (let i = 0; i < 10; i++) await cycle()
      // A generic plan made on the small table hashes the whole table for every batch.
      expect((await seqScans()) - before).toBe(0)
    } finally {
      await ledger.close()
      await pool.end()
    }
  })

  it('appends that arrive while a batch commits form the next batch, all of them together', async () => {
    const hold = latch()
    const sizes: number[] = []
    const ledger = open({
      extensions: [
        {
          async written(_tx, entries) {
            sizes.push(entries.length)
            if (sizes.length === 1) await hold.promise
          },
        },
      ],
    })
    const first = ledger.append(request({ requestId: 'first' }))
    await until(() => sizes.length === 1, 'the first batch to start')
    // While the first transaction is open, 50 appends over 10 event-loop turns.
    const later: Promise<number>[] = []
    for (let turn = 0; turn < 10; turn++) {
      for (let i = 0; i < 5; i++) later.push(ledger.append(request({ requestId: `later-${turn}-${i}` })))
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(await count()).toBe(0) // nothing is visible before COMMIT
    let resolved = false
    void first.then(() => {
      resolved = true
    })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(resolved).toBe(false) // and the append has not resolved either
    hold.open()
    await Promise.all([first, ...later])
    expect(sizes).toEqual([1, 50])
    expect(ledger.metrics).toMatchObject({ batches: 2, appended: 51, failedBatches: 0, pending: 0 })
  })

  it('maxBatch bounds a batch; a burst is written in several', async () => {
    const sizes: number[] = []
    const ledger = open({
      maxBatch: 64,
      extensions: [{ written: async (_tx, e) => void sizes.push(e.length) }],
    })
    const ids = await Promise.all(Array.from({ length: 1000 }, () => ledger.append(request())))
    expect(new Set(ids).size).toBe(1000)
    expect(Math.max(...sizes)).toBe(64)
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000)
    expect(ledger.metrics.batches).toBe(Math.ceil(1000 / 64))
    expect(() => openPgLedger({ pool: db.pool, maxBatch: 0 })).toThrow(/maxBatch/)
  })

  it('an extension writes in the batch transaction: its rows and the entries commit or roll back together', async () => {
    await db.pool.query('CREATE TABLE IF NOT EXISTS public.side (entry_id bigint NOT NULL)')
    await db.pool.query('TRUNCATE public.side')
    let fail = true
    const ledger = open({
      extensions: [
        {
          async written(tx, entries) {
            await tx.query('INSERT INTO public.side SELECT unnest($1::bigint[])', [entries.map((e) => e.id)])
          },
        },
        {
          async written() {
            if (fail) throw new Error('second extension failed')
          },
        },
      ],
    })
    const failed = await Promise.allSettled([ledger.append(request()), ledger.append(request())])
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(await count()).toBe(0)
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.side')).rows[0].n).toBe(0)
    fail = false
    const ids = await Promise.all([ledger.append(request()), ledger.append(request())])
    const side = await db.pool.query<{ entry_id: string }>(
      'SELECT entry_id FROM public.side ORDER BY entry_id',
    )
    expect(side.rows.map((r) => Number(r.entry_id))).toEqual(ids)
  })

  it('an extension that swallows a failed statement cannot make a rolled-back batch look committed', async () => {
    const ledger = open({
      extensions: [
        {
          async written(tx) {
            await tx.query('SELECT 1/0').catch(() => {}) // the transaction is now aborted
          },
        },
      ],
    })
    const results = await Promise.allSettled([ledger.append(request()), ledger.system('gate_start')])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(await count()).toBe(0)
    expect(ledger.metrics).toMatchObject({ failedBatches: 1, batches: 0 })
  })

  it('a failed batch rejects every append in it, and the next batch works', async () => {
    await db.pool.query(
      `ALTER TABLE aegis.ledger_entries ADD CONSTRAINT test_no_fail CHECK (path <> '/fail')`,
    )
    try {
      const ledger = open()
      const results = await Promise.allSettled([
        ledger.append(request({ path: '/ok' })),
        ledger.append(request({ path: '/fail' })),
        ledger.append(request({ path: '/ok' })),
      ])
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'write_failed' })
      await expect(ledger.flush()).resolves.toBeUndefined() // nothing queued any more
      expect(await count()).toBe(0)
      await ledger.append(request({ path: '/ok' }))
      expect(await count()).toBe(1)
    } finally {
      await db.pool.query('ALTER TABLE aegis.ledger_entries DROP CONSTRAINT test_no_fail')
    }
  })

  it('a connection killed mid-batch: the appends reject, nothing commits, the next batch uses a new connection', async () => {
    const hold = latch()
    let batch = 0
    const ledger = open({
      extensions: [
        {
          async written(tx) {
            batch++
            if (batch === 1) {
              const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
              await db.pool.query('SELECT pg_terminate_backend($1)', [pid])
              await hold.promise
            }
          },
        },
      ],
    })
    const doomed = Promise.allSettled([ledger.append(request()), ledger.append(request())])
    await until(() => batch === 1, 'the first batch')
    hold.open()
    expect((await doomed).map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(await count()).toBe(0)
    const id = await ledger.append(request({ requestId: 'after' }))
    expect((await ledger.entries([id]))[0]?.requestId).toBe('after')
  })

  it('completions alone get their own transaction within a bounded delay', async () => {
    const ledger = open()
    const id = await ledger.append(request())
    const before = ledger.metrics.batches
    const started = Date.now()
    ledger.complete(id, { status: 204, durationMs: 2, bytesIn: 0, bytesOut: 0 })
    await until(() => ledger.metrics.batches > before, 'the completion batch', 1000)
    expect(Date.now() - started).toBeLessThan(250)
    expect((await ledger.entries([id]))[0]?.status).toBe(204)
  })

  it('completions ride in the next append batch', async () => {
    const ledger = open()
    const id = await ledger.append(request())
    ledger.complete(id, { status: 204, durationMs: 2, bytesIn: 0, bytesOut: 0 })
    await ledger.append(request())
    expect(ledger.metrics).toMatchObject({ batches: 2, completed: 1 })
    expect((await ledger.entries([id]))[0]?.status).toBe(204)
  })

  it('PostgreSQL away: the outcome of a request forwarded before is written once it is back, not lost', async () => {
    const relay = await startRelay(db.url)
    const pool = openPool({ url: relay.url, max: 3 })
    pool.on('error', () => {})
    try {
      const ledger = openPgLedger({ pool })
      ledgers.push(ledger)
      // Forwarded (its row committed); the upstream answers while the server is away.
      const id = await ledger.append(request({ path: '/before' }))
      await relay.down()
      ledger.complete(id, { status: 201, durationMs: 7, bytesIn: 3, bytesOut: 42 })
      await until(() => ledger.metrics.failedBatches > 0, 'the completion batch to fail')
      // Meanwhile new requests are refused: nothing is recorded, so nothing may be forwarded.
      await expect(ledger.append(request({ path: '/during' }))).rejects.toMatchObject({
        code: 'write_failed',
      })
      await relay.up()
      // Written by itself once the server is back (no append needed to carry it).
      await until(
        async () => (await ledger.entries([id]))[0]?.status === 201,
        'the kept completion to be written',
        5000,
      )
      expect((await ledger.entries([id]))[0]).toMatchObject({
        decision: 'allowed',
        status: 201,
        bytesOut: 42,
      })
      expect(ledger.metrics.droppedCompletes).toBe(0)
      const rows = await db.pool.query(`SELECT path FROM aegis.ledger_entries ORDER BY id`)
      expect(rows.rows.map((r) => r.path)).toEqual(['/before'])
    } finally {
      await relay.close()
      await pool.end().catch(() => {})
    }
  })

  it.each([
    ['one statement', []],
    ['a transaction (an extension)', [{ written: async () => {} }]],
  ] as const)(
    'PostgreSQL behind a dead network path (%s): an append is refused within seconds instead of hanging every request',
    async (_, extensions) => {
      const relay = await startRelay(db.url)
      const pool = openPool({ url: relay.url, max: 2, statementTimeoutMs: 300, onError: () => {} })
      try {
        const ledger = openPgLedger({ pool, extensions })
        ledgers.push(ledger)
        const before = await ledger.append(request({ path: '/before' }))
        relay.freeze()
        // Forwarded before; its outcome goes out with the append below, on the dead connection.
        ledger.complete(before, { status: 201, durationMs: 1, bytesIn: 0, bytesOut: 5 })
        const started = Date.now()
        const stuck = await Promise.race([
          ledger.append(request({ path: '/frozen' })).then(
            () => 'written',
            (error: { code?: string }) => error.code,
          ),
          new Promise((resolve) => setTimeout(() => resolve('hung'), 6000)),
        ])
        expect(stuck).toBe('write_failed')
        expect(Date.now() - started).toBeLessThan(4000)
        // New connections get through again: the ledger writes on one of them.
        const id = await ledger.append(request({ path: '/after' }))
        expect((await ledger.entries([id]))[0]?.path).toBe('/after')
        // The outcome the dead connection never answered for was kept and written.
        expect((await ledger.entries([before]))[0]?.status).toBe(201)
      } finally {
        await relay.close()
        await Promise.race([pool.end(), new Promise((resolve) => setTimeout(resolve, 2000))])
      }
    },
    20_000,
  )

  it('PostgreSQL away at close: close ends (rejects) instead of retrying for ever', async () => {
    const relay = await startRelay(db.url)
    const pool = openPool({ url: relay.url, max: 3 })
    pool.on('error', () => {})
    try {
      const ledger = openPgLedger({ pool })
      const id = await ledger.append(request())
      await relay.down()
      ledger.complete(id, { status: 200, durationMs: 1, bytesIn: 0, bytesOut: 0 })
      await expect(ledger.close()).rejects.toMatchObject({ code: 'write_failed' })
      const failed = ledger.metrics.failedBatches
      expect(ledger.metrics.droppedCompletes).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect(ledger.metrics.failedBatches).toBe(failed)
    } finally {
      await relay.close()
      await pool.end().catch(() => {})
    }
  })

  it('a completion the server refuses for its content is dropped, and later batches still commit', async () => {
    await db.pool.query(`ALTER TABLE aegis.ledger_entries ADD CONSTRAINT test_no_599 CHECK (status <> 599)`)
    try {
      const ledger = open()
      const id = await ledger.append(request())
      ledger.complete(id, { status: 599, durationMs: 1, bytesIn: 0, bytesOut: 0 })
      await until(() => ledger.metrics.failedBatches > 0, 'the refused completion')
      const next = await ledger.append(request({ path: '/next' }))
      expect((await ledger.entries([next]))[0]?.path).toBe('/next')
      expect(ledger.metrics.droppedCompletes).toBe(1)
    } finally {
      await db.pool.query('ALTER TABLE aegis.ledger_entries DROP CONSTRAINT test_no_599')
    }
  })

  it('two gates on one database: distinct ids, one ledger, both see every row', async () => {
    const other = openPool({ url: db.url, max: 3 })
    try {
      const a = open()
      const b = openPgLedger({ pool: other })
      const [idsA, idsB] = await Promise.all([
        Promise.all(
          Array.from({ length: 500 }, (_, i) => a.append(request({ requestId: `a${i}`, agent: 'gate-a' }))),
        ),
        Promise.all(
          Array.from({ length: 500 }, (_, i) => b.append(request({ requestId: `b${i}`, agent: 'gate-b' }))),
        ),
      ])
      expect(new Set([...idsA, ...idsB]).size).toBe(1000)
      expect((await a.stats()).byAgent).toEqual({ 'gate-a': 500, 'gate-b': 500 })
      expect((await b.entries(idsA.slice(0, 3))).map((e: LedgerEntry) => e.requestId)).toEqual([
        'a0',
        'a1',
        'a2',
      ])
      await b.close()
    } finally {
      await other.end()
    }
  })

  it('close flushes but leaves the host’s pool open', async () => {
    const ledger = open()
    const pending = ledger.append(request())
    await ledger.close()
    await expect(pending).resolves.toBe(1)
    expect((await db.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1)
    expect(db.pool.ended).toBe(false)
  })
})
