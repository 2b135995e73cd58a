import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Ledger, LedgerError, openLedger } from '../src/index.js'
import { entry, tempLedgerFile } from './helpers.js'

let ledger: Ledger
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0)
const at = (seconds: number) => new Date(T0 + seconds * 1000)
let ids: number[]

beforeEach(async () => {
  ledger = openLedger({ file: tempLedgerFile() })
  ids = []
  const rows = [
    entry({ time: at(0), agent: 'a', decision: 'allowed' }),
    entry({ time: at(10), agent: 'a', decision: 'blocked', code: 'domain_denied', status: 403 }),
    entry({ time: at(70), agent: 'b', decision: 'blocked', code: 'domain_denied', status: 403 }),
    entry({
      time: at(75),
      agent: 'b',
      decision: 'blocked',
      code: 'scope_denied',
      status: 403,
      channel: 'mcp',
    }),
    entry({ time: at(130), agent: 'a', decision: 'failed', code: 'upstream_timeout', status: 504 }),
    entry({ time: at(140), agent: null, decision: 'blocked', code: 'domain_denied', status: 403 }),
  ]
  for (const row of rows) ids.push(await ledger.append(row))
  ids.push(await ledger.system('gate_start'))
  // Durations 1..20 ms on the first entry's neighbours: p95 by nearest rank is 19.
  ledger.complete(ids[0] as number, { durationMs: 5, bytesIn: 0, bytesOut: 10, status: 200 })
  ledger.complete(ids[4] as number, { durationMs: 900, bytesIn: 0, bytesOut: 0 })
  await ledger.flush()
})

afterEach(async () => {
  await ledger.close()
})

describe('query filters of the dashboard', () => {
  it('afterId pages forward oldest first, requests only', () => {
    const page = ledger.query({ afterId: ids[1], requests: true, order: 'asc', limit: 2 })
    expect(page.map((e) => e.id)).toEqual([ids[2], ids[3]])
    const rest = ledger.query({ afterId: ids[3], requests: true, order: 'asc', limit: 10 })
    expect(rest.map((e) => e.id)).toEqual([ids[4], ids[5]])
  })

  it('beforeId pages back newest first', () => {
    expect(ledger.query({ beforeId: ids[3], limit: 10 }).map((e) => e.id)).toEqual([ids[2], ids[1], ids[0]])
  })

  it('filters by decision, code and channel', () => {
    expect(ledger.query({ decision: 'failed' }).map((e) => e.id)).toEqual([ids[4]])
    expect(ledger.query({ code: 'domain_denied', order: 'asc' }).map((e) => e.id)).toEqual([
      ids[1],
      ids[2],
      ids[5],
    ])
    expect(ledger.query({ channel: 'mcp' }).map((e) => e.id)).toEqual([ids[3]])
    expect(ledger.query({ decision: 'system' }).map((e) => e.event)).toEqual(['gate_start'])
  })

  it('requests excludes system entries', () => {
    expect(ledger.query({ requests: true, limit: 100 })).toHaveLength(6)
    expect(ledger.query({ limit: 100 })).toHaveLength(7)
  })

  it.each([
    [{ decision: 'maybe' }, 'decision'],
    [{ channel: 'smtp' }, 'channel'],
    [{ afterId: -1 }, 'afterId'],
    [{ beforeId: 1.5 }, 'beforeId'],
    [{ order: 'sideways' }, 'order'],
  ])('refuses a bad filter %j', (filter, name) => {
    expect(() => ledger.query(filter as never)).toThrow(LedgerError)
    expect(() => ledger.query(filter as never)).toThrow(name)
  })
})

describe('entries(ids)', () => {
  it('returns the existing ones by id, with their completion', () => {
    const got = ledger.entries([ids[4] as number, 99_999, ids[0] as number])
    expect(got.map((e) => e.id)).toEqual([ids[0], ids[4]])
    expect(got[0]?.durationMs).toBe(5)
    expect(ledger.entries([])).toEqual([])
  })

  it('refuses non-integers and too many ids', () => {
    expect(() => ledger.entries([Number.NaN])).toThrow(LedgerError)
    expect(() => ledger.entries(Array.from({ length: 1001 }, (_, i) => i))).toThrow(LedgerError)
  })
})

describe('timeline', () => {
  it('counts requests per bucket by decision, empty buckets included', () => {
    const buckets = ledger.timeline({ since: at(0), until: at(240), bucketSeconds: 60 })
    expect(buckets).toEqual([
      { t: at(0).toISOString(), allowed: 1, blocked: 1, failed: 0 },
      { t: at(60).toISOString(), allowed: 0, blocked: 2, failed: 0 },
      { t: at(120).toISOString(), allowed: 0, blocked: 1, failed: 1 },
      { t: at(180).toISOString(), allowed: 0, blocked: 0, failed: 0 },
    ])
  })

  it('refuses a bad bucket size or an inverted range', () => {
    expect(() => ledger.timeline({ since: at(0), until: at(60), bucketSeconds: 0 })).toThrow(LedgerError)
    expect(() => ledger.timeline({ since: at(60), until: at(0), bucketSeconds: 1 })).toThrow(LedgerError)
    expect(() => ledger.timeline({ since: at(0), until: at(100_000), bucketSeconds: 1 })).toThrow(LedgerError)
  })
})

describe('window', () => {
  it('counts and p95 over completed durations', () => {
    expect(ledger.window({ since: at(0), until: at(300) })).toEqual({
      requests: 6,
      blocked: 4,
      failed: 1,
      p95Ms: 900,
    })
    expect(ledger.window({ since: at(60), until: at(120) })).toEqual({
      requests: 2,
      blocked: 2,
      failed: 0,
      p95Ms: null,
    })
  })

  it('p95 is the nearest rank', async () => {
    const other = openLedger({ file: tempLedgerFile() })
    try {
      for (let i = 1; i <= 20; i++) {
        const id = await other.append(entry({ time: at(i) }))
        other.complete(id, { durationMs: i, bytesIn: 0, bytesOut: 0 })
      }
      await other.flush()
      expect(other.window({ since: at(0), until: at(60) }).p95Ms).toBe(19)
    } finally {
      await other.close()
    }
  })
})

describe('blockedGroups', () => {
  it('groups refusals by code and agent, largest first', () => {
    expect(ledger.blockedGroups({ since: at(0), until: at(300) })).toEqual([
      { code: 'domain_denied', agent: null, count: 1, lastSeen: at(140).toISOString() },
      { code: 'scope_denied', agent: 'b', count: 1, lastSeen: at(75).toISOString() },
      { code: 'domain_denied', agent: 'b', count: 1, lastSeen: at(70).toISOString() },
      { code: 'domain_denied', agent: 'a', count: 1, lastSeen: at(10).toISOString() },
    ])
  })

  it('by code only, with a limit', () => {
    expect(ledger.blockedGroups({ since: at(0), until: at(300), byAgent: false, limit: 1 })).toEqual([
      { code: 'domain_denied', agent: null, count: 3, lastSeen: at(140).toISOString() },
    ])
  })
})
