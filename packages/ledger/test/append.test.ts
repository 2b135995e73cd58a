import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Ledger, LedgerError, openLedger } from '../src/index.js'
import { MIGRATIONS_DIR } from '../src/ledger.js'
import { entry, tempLedgerFile } from './helpers.js'

const open: Ledger[] = []
const others: Database.Database[] = []

function ledgerAt(file: string, busyTimeoutMs?: number, writer?: 'inline' | 'worker'): Ledger {
  const ledger = openLedger({ file, busyTimeoutMs, writer })
  open.push(ledger)
  return ledger
}

/** A second, independent connection to the same file — what another process would see. */
function secondConnection(file: string): Database.Database {
  const db = new Database(file)
  others.push(db)
  return db
}

afterEach(async () => {
  for (const db of others.splice(0)) if (db.open) db.close()
  for (const ledger of open.splice(0)) await ledger.close()
})

describe.each(['inline', 'worker'] as const)('group commit (writer: %s)', (writer) => {
  it('writes every append queued in one event-loop turn in a single transaction', async () => {
    const ledger = ledgerAt(tempLedgerFile(), undefined, writer)
    const ids = await Promise.all(Array.from({ length: 200 }, () => ledger.append(entry())))
    expect(new Set(ids).size).toBe(200)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(ledger.metrics).toMatchObject({ batches: 1, appended: 200, failedBatches: 0, pending: 0 })

    await Promise.all([ledger.append(entry()), ledger.system('gate_start')])
    expect(ledger.metrics).toMatchObject({ batches: 2, appended: 202 })
  })

  it('resolves an append only once its row is readable from another connection', async () => {
    const file = tempLedgerFile()
    const ledger = ledgerAt(file, undefined, writer)
    const reader = secondConnection(file)
    const count = reader.prepare('SELECT count(*) AS n FROM entries')
    const byId = reader.prepare('SELECT request_id, path FROM entries WHERE id = ?')

    const pending = ledger.append(entry({ requestId: 'visible-1' }))
    expect(count.get()).toEqual({ n: 0 }) // queued, not yet written
    expect(ledger.metrics.pending).toBe(1)
    const seenAtResolution = await pending.then((id) => byId.get(id))
    expect(seenAtResolution).toEqual({ request_id: 'visible-1', path: '/repos/acme/app' })
  })

  it('rejects every append of a batch whose transaction fails, and recovers afterwards', async () => {
    const file = tempLedgerFile()
    const ledger = ledgerAt(file, 20, writer)
    const blocker = secondConnection(file)
    blocker.exec('BEGIN EXCLUSIVE')
    blocker
      .prepare("INSERT INTO entries (time, ts, channel, decision) VALUES ('x', 0, 'system', 'system')")
      .run()

    const results = await Promise.allSettled([
      ledger.append(entry()),
      ledger.append(entry()),
      ledger.system('x'),
    ])
    for (const result of results) {
      expect(result.status).toBe('rejected')
      const reason = (result as PromiseRejectedResult).reason
      expect(reason).toBeInstanceOf(LedgerError)
      expect(reason).toMatchObject({
        code: 'write_failed',
        message: 'Ledger write failed: database is locked (SQLITE_BUSY)',
      })
    }
    expect(ledger.metrics).toMatchObject({ batches: 0, failedBatches: 1, appended: 0 })

    blocker.exec('ROLLBACK')
    const id = await ledger.append(entry({ requestId: 'after-recovery' }))
    const rows = blocker.prepare('SELECT id, request_id FROM entries').all()
    expect(rows).toEqual([{ id, request_id: 'after-recovery' }])
  })

  it('rejects the batch SQLite refuses (a trigger aborts it) with the SQLite code as cause, then recovers', async () => {
    const file = tempLedgerFile()
    const ledger = ledgerAt(file, undefined, writer)
    await ledger.append(entry())
    const other = secondConnection(file)
    other.exec(`CREATE TRIGGER refuse BEFORE INSERT ON entries WHEN NEW.path = '/refused'
      BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END`)
    const results = await Promise.allSettled([
      ledger.append(entry()),
      ledger.append(entry({ path: '/refused' })),
    ])
    for (const result of results) {
      expect(result.status).toBe('rejected')
      const reason = (result as PromiseRejectedResult).reason
      expect(reason).toBeInstanceOf(LedgerError)
      expect(reason).toMatchObject({ code: 'write_failed', cause: { code: 'SQLITE_CONSTRAINT_TRIGGER' } })
    }
    other.exec('DROP TRIGGER refuse')
    await ledger.append(entry({ path: '/refused' }))
    expect(ledger.query({}).map((e) => e.path)).toEqual(['/refused', '/repos/acme/app'])
  })

  it('rejects appends after close instead of dropping them', async () => {
    const ledger = openLedger({ file: tempLedgerFile(), writer })
    await ledger.close()
    await expect(ledger.append(entry())).rejects.toMatchObject({ code: 'closed' })
    await expect(ledger.system('gate_stop')).rejects.toMatchObject({ code: 'closed' })
    expect(() => ledger.query({})).toThrow('Ledger is closed')
  })

  it('close() commits queued appends and completions', async () => {
    const file = tempLedgerFile()
    const ledger = openLedger({ file, writer })
    const id = await ledger.append(entry())
    const late = ledger.append(entry({ requestId: 'queued-at-close' }))
    ledger.complete(id, { status: 201, durationMs: 7, bytesIn: 3, bytesOut: 4 })
    await ledger.close()
    await expect(late).resolves.toBeGreaterThan(id)

    const reopened = ledgerAt(file, undefined, writer)
    const [newest, first] = reopened.query({})
    expect(newest?.requestId).toBe('queued-at-close')
    expect(first).toMatchObject({ id, status: 201, durationMs: 7, bytesIn: 3, bytesOut: 4 })
  })

  it('flush() writes the queue at once', async () => {
    const ledger = ledgerAt(tempLedgerFile(), undefined, writer)
    const pending = ledger.append(entry())
    await ledger.flush()
    expect(ledger.metrics).toMatchObject({ batches: 1, pending: 0 })
    expect(ledger.query({})).toHaveLength(1)
    await pending
  })

  it('a completion rides in the next append batch instead of a transaction of its own', async () => {
    // Only the completion delay's timer is faked: batches still go out on the real event loop.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const ledger = ledgerAt(tempLedgerFile(), undefined, writer)
      const first = await ledger.append(entry())
      ledger.complete(first, { status: 201, durationMs: 7, bytesIn: 0, bytesOut: 64 })
      // 200 ms of event-loop turns (a batch of its own would be written and answered by then),
      // and nothing was written for it: it waits for an append.
      const until = Date.now() + 200
      while (Date.now() < until) await new Promise((resolve) => setImmediate(resolve))
      expect(ledger.metrics).toMatchObject({ batches: 1, completed: 0, pending: 1 })
      expect(ledger.query({})[0]).toMatchObject({ id: first, status: null })

      const second = await ledger.append(entry())
      expect(ledger.metrics).toMatchObject({ batches: 2, appended: 2, completed: 1, pending: 0 })
      const rows = ledger.query({})
      expect(rows.find((r) => r.id === first)).toMatchObject({ status: 201, bytesOut: 64 })
      expect(rows.find((r) => r.id === second)).toMatchObject({ status: null })
    } finally {
      vi.useRealTimers()
    }
  })

  it('a completion no append comes for is written on its own, without a flush', async () => {
    const ledger = ledgerAt(tempLedgerFile(), undefined, writer)
    const id = await ledger.append(entry())
    ledger.complete(id, { status: 204, durationMs: 3, bytesIn: 0, bytesOut: 0 })
    const deadline = Date.now() + 5000
    while (ledger.metrics.completed === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(ledger.metrics).toMatchObject({ batches: 2, completed: 1, pending: 0 })
    expect(ledger.query({})[0]).toMatchObject({ id, status: 204 })
  })

  it('lone completions keep being written after the delay fired, and after an append took one early', async () => {
    const ledger = ledgerAt(tempLedgerFile(), undefined, writer)
    const settled = async (completed: number) => {
      const deadline = Date.now() + 5000
      while (ledger.metrics.completed < completed && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      expect(ledger.metrics).toMatchObject({ completed, pending: 0 })
    }
    const a = await ledger.append(entry())
    const b = await ledger.append(entry())
    ledger.complete(a, { status: 201, durationMs: 1, bytesIn: 0, bytesOut: 1 })
    await settled(1) // on its own: the delay fired
    ledger.complete(b, { status: 202, durationMs: 1, bytesIn: 0, bytesOut: 2 })
    await settled(2) // the same timer, armed again after it fired
    // A completion an append takes early leaves the timer disarmed but pending; the next lone one
    // still goes on its own.
    ledger.complete(a, { status: 203, durationMs: 1, bytesIn: 0, bytesOut: 3 })
    const c = await ledger.append(entry())
    expect(ledger.metrics.completed).toBe(3)
    ledger.complete(c, { status: 204, durationMs: 1, bytesIn: 0, bytesOut: 4 })
    await settled(4)
    const rows = ledger.query({})
    expect(rows.find((r) => r.id === a)).toMatchObject({ status: 203 })
    expect(rows.find((r) => r.id === b)).toMatchObject({ status: 202 })
    expect(rows.find((r) => r.id === c)).toMatchObject({ status: 204 })
    await ledger.close()
  })
})

describe('entry validation', () => {
  it('rejects a malformed entry alone; its batch neighbours still commit', async () => {
    const ledger = ledgerAt(tempLedgerFile())
    const bad = [
      entry({ channel: 'system' as never }),
      entry({ decision: 'system' as never }),
      entry({ method: 'GET /x' }),
      entry({ requestId: '' }),
      entry({ inspection: 'found ghp_0123456789abcdef in body' }),
      entry({ time: new Date(Number.NaN) }),
      entry({ agent: 42 as never }),
    ]
    const good = ledger.append(entry({ requestId: 'good' }))
    const results = await Promise.allSettled(bad.map((e) => ledger.append(e)))
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'invalid_entry' } })
    }
    await expect(good).resolves.toBeTypeOf('number')
    expect(ledger.query({}).map((e) => e.requestId)).toEqual(['good'])
    await expect(ledger.system('Gate Start!')).rejects.toMatchObject({ code: 'invalid_entry' })
  })

  it('never stores the query string or fragment of a path', async () => {
    const file = tempLedgerFile()
    const ledger = openLedger({ file })
    await ledger.append(entry({ path: '/search?q=SENSITIVE-QUERY-VALUE&key=abc#FRAGMENT-VALUE' }))
    await ledger.append(entry({ path: '/a#frag?x=FRAGMENT-QUERY' }))
    expect(ledger.query({}).map((e) => e.path)).toEqual(['/a', '/search'])
    await ledger.close()
    const dir = dirname(file)
    for (const name of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, name)).toString('latin1')
      expect(bytes).not.toContain('SENSITIVE-QUERY-VALUE')
      expect(bytes).not.toContain('FRAGMENT')
    }
  })

  it('stores the given time as ISO 8601 UTC with milliseconds, and now by default', async () => {
    const ledger = ledgerAt(tempLedgerFile())
    await ledger.append(entry({ requestId: 'given', time: new Date('2026-03-01T10:00:00+02:00') }))
    await ledger.append(entry({ requestId: 'now' }))
    const [now, given] = ledger.query({})
    expect(given?.time).toBe('2026-03-01T08:00:00.000Z')
    expect(now?.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(Math.abs(Date.parse(now?.time ?? '') - Date.now())).toBeLessThan(60_000)
  })
})

describe('complete', () => {
  it('updates status, duration, bytes and findings in a batched UPDATE', async () => {
    const ledger = ledgerAt(tempLedgerFile())
    const id = await ledger.append(entry())
    expect(ledger.query({})[0]).toMatchObject({
      status: null,
      durationMs: null,
      bytesIn: null,
      bytesOut: null,
    })
    ledger.complete(id, {
      status: 200,
      durationMs: 12.4,
      bytesIn: 10,
      bytesOut: 2048,
      redactions: 2,
      inspection: 'warn:github-token',
    })
    expect(ledger.metrics.pending).toBe(1)
    await ledger.flush()
    expect(ledger.query({})[0]).toMatchObject({
      id,
      decision: 'allowed',
      status: 200,
      durationMs: 12,
      bytesIn: 10,
      bytesOut: 2048,
      redactions: 2,
      inspection: 'warn:github-token',
    })
    expect(ledger.metrics.completed).toBe(1)
  })

  it('can turn an allowed request into a failed one', async () => {
    const ledger = ledgerAt(tempLedgerFile())
    const id = await ledger.append(entry())
    ledger.complete(id, {
      decision: 'failed',
      code: 'upstream_timeout',
      status: 504,
      durationMs: 30000,
      bytesIn: 0,
      bytesOut: 0,
    })
    await ledger.flush()
    expect(ledger.query({})[0]).toMatchObject({ decision: 'failed', code: 'upstream_timeout', status: 504 })
  })

  it('writes figures-only and deciding completions of one batch to the right rows', async () => {
    const ledger = ledgerAt(tempLedgerFile())
    const ok = await ledger.append(entry({ requestId: 'ok' }))
    const bad = await ledger.append(entry({ requestId: 'bad' }))
    const system = await ledger.system('gate_start')
    ledger.complete(ok, { status: 200, durationMs: 3, bytesIn: 0, bytesOut: 61, redactions: 1 })
    ledger.complete(bad, {
      decision: 'failed',
      code: 'upstream_unreachable',
      durationMs: 9,
      bytesIn: 0,
      bytesOut: 0,
    })
    ledger.complete(system, { status: 200, durationMs: 1, bytesIn: 1, bytesOut: 1 })
    await ledger.flush()
    const byId = new Map([...ledger.query({}), ...ledger.query({ system: true })].map((e) => [e.id, e]))
    expect(byId.get(ok)).toMatchObject({
      decision: 'allowed',
      code: null,
      status: 200,
      bytesOut: 61,
      redactions: 1,
    })
    expect(byId.get(bad)).toMatchObject({ decision: 'failed', code: 'upstream_unreachable', durationMs: 9 })
    expect(byId.get(system)).toMatchObject({ decision: 'system', status: null, durationMs: null })
    expect(ledger.metrics).toMatchObject({ completed: 2, droppedCompletes: 1 })
  })

  it('never rewrites a system entry, and counts completions that found no row', async () => {
    const ledger = ledgerAt(tempLedgerFile())
    const id = await ledger.system('gate_start', 'listening on http://127.0.0.1:3100')
    ledger.complete(id, { decision: 'blocked', status: 403, durationMs: 1, bytesIn: 1, bytesOut: 1 })
    ledger.complete(999_999, { status: 200, durationMs: 1, bytesIn: 1, bytesOut: 1 })
    ledger.complete(-1, { status: 200, durationMs: 1, bytesIn: 1, bytesOut: 1 })
    await ledger.flush()
    expect(ledger.query({})[0]).toEqual({
      id,
      time: expect.any(String),
      requestId: null,
      channel: 'system',
      agent: null,
      credential: null,
      service: null,
      targetHost: null,
      method: null,
      path: null,
      decision: 'system',
      code: null,
      status: null,
      durationMs: null,
      bytesIn: null,
      bytesOut: null,
      event: 'gate_start',
      detail: 'listening on http://127.0.0.1:3100',
    })
    expect(ledger.metrics).toMatchObject({ completed: 0, droppedCompletes: 3 })
  })

  it('drops an inspection value that is not a list of finding kinds', async () => {
    const ledger = ledgerAt(tempLedgerFile())
    const id = await ledger.append(entry())
    ledger.complete(id, {
      status: 200,
      durationMs: 1,
      bytesIn: 1,
      bytesOut: 1,
      inspection: 'token ghp_abc found',
    })
    await ledger.flush()
    expect(ledger.query({})[0]).not.toHaveProperty('inspection')
  })
})

describe('file', () => {
  it('keeps the database, WAL and shared-memory files private (0600) in WAL mode', async () => {
    const file = join(tempLedgerFile(), '..', 'nested', 'ledger.db')
    const ledger = ledgerAt(file)
    await ledger.append(entry())
    for (const name of [file, `${file}-wal`, `${file}-shm`]) {
      expect((statSync(name).mode & 0o777).toString(8)).toBe('600')
    }
    const reader = secondConnection(file)
    expect(reader.pragma('journal_mode', { simple: true })).toBe('wal')
  })

  it('reopens an existing ledger (migrations are idempotent) with its entries intact', async () => {
    const file = tempLedgerFile()
    const first = openLedger({ file })
    const id = await first.append(entry())
    await first.close()
    const again = ledgerAt(file)
    expect(again.query({}).map((e) => e.id)).toEqual([id])
  })

  it('upgrades a ledger written by the first schema: its entries stay, the decision index goes', async () => {
    const file = tempLedgerFile()
    // The migrations as the first release shipped them: 0000 alone.
    const firstRelease = join(dirname(file), 'migrations-v1')
    cpSync(MIGRATIONS_DIR, firstRelease, { recursive: true })
    rmSync(join(firstRelease, '0001_drop_decision_index.sql'))
    const journalFile = join(firstRelease, 'meta', '_journal.json')
    const journal = JSON.parse(readFileSync(journalFile, 'utf8'))
    journal.entries = journal.entries.slice(0, 1)
    writeFileSync(journalFile, JSON.stringify(journal))
    const raw = new Database(file)
    migrate(drizzle({ client: raw }), { migrationsFolder: firstRelease })
    raw
      .prepare(
        "INSERT INTO entries (time, ts, channel, decision, path) VALUES ('2026-01-01T00:00:00.000Z', 1, 'gate', 'blocked', '/old')",
      )
      .run()
    raw.close()
    const upgraded = ledgerAt(file)
    expect(upgraded.query({ blocked: true }).map((e) => e.path)).toEqual(['/old'])
    const check = new Database(file, { readonly: true })
    const indexes = check
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' AND sql IS NOT NULL",
      )
      .all()
      .map((r) => (r as { name: string }).name)
      .sort()
    check.close()
    expect(indexes).toEqual(['entries_agent_idx', 'entries_service_idx', 'entries_ts_idx'])
  })

  it('reports a file it cannot open as a LedgerError', () => {
    const file = tempLedgerFile()
    expect(() => openLedger({ file: join(file, 'x', '\0bad') })).toThrow(LedgerError)
  })
})
