/**
 * The `LedgerStore` contract: one suite, run for SQLite (test/sqlite-store.test.ts) and for
 * PostgreSQL (test/pg/ledger-store.test.ts) with the same expectations for every call. Each test
 * opens one store on an empty ledger whose ids start at 1.
 */
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Decision,
  exportLedger,
  type LedgerEntry,
  type LedgerEntryInput,
  type LedgerFilter,
  type LedgerStore,
} from '../../src/index.js'

/** An engine-neutral extension; each engine's test adapts it to its own extension type. */
export interface TestExtension {
  readonly decisions?: readonly Decision[]
  /** Called inside the batch transaction; throwing fails the batch. */
  written(entries: readonly LedgerEntry[]): void
}

export interface OpenOptions {
  extensions?: readonly TestExtension[]
}

/** Opens a store on an EMPTY ledger (ids start at 1). */
export type OpenStore = (options?: OpenOptions) => Promise<LedgerStore>

const T0 = Date.parse('2026-03-01T12:00:00.000Z')
const at = (seconds: number): Date => new Date(T0 + seconds * 1000)
const iso = (seconds: number): string => at(seconds).toISOString()

/**
 * The seed. Names and services mix cases on purpose ('B', 'Zeta'): both engines sort text
 * bytewise. r5 and r6 share a timestamp (the id breaks the tie).
 */
const SEED: LedgerEntryInput[] = [
  {
    requestId: 'r1',
    channel: 'gate',
    agent: 'a',
    credential: 'gh',
    service: 'github',
    targetHost: 'api.github.com',
    method: 'GET',
    path: '/repos/acme?token=x#frag',
    decision: 'allowed',
    status: 200,
    time: at(0),
  },
  {
    requestId: 'r2',
    channel: 'gate',
    agent: 'b',
    service: 'slack',
    method: 'POST',
    path: '/chat',
    decision: 'blocked',
    code: 'domain_denied',
    status: 403,
    time: at(10),
  },
  {
    requestId: 'r3',
    channel: 'mcp',
    agent: 'a',
    service: 'github',
    method: 'GET',
    path: '/user',
    decision: 'blocked',
    code: 'rate_limited',
    status: 429,
    inspection: 'warn:github-token',
    time: at(20),
  },
  {
    requestId: 'r4',
    channel: 'gate',
    method: 'GET',
    path: '/',
    decision: 'blocked',
    code: 'domain_denied',
    status: 403,
    time: at(30),
  },
  {
    requestId: 'r5',
    channel: 'gate',
    agent: 'B',
    service: 'Zeta',
    method: 'DELETE',
    path: '/z',
    decision: 'failed',
    code: 'upstream_timeout',
    status: 504,
    time: at(40),
  },
  {
    requestId: 'r6',
    channel: 'gate',
    agent: 'a',
    service: 'github',
    method: 'PUT',
    path: '/big',
    decision: 'allowed',
    dryRun: 'scope_denied',
    time: at(40),
  },
  {
    requestId: 'r7',
    channel: 'gate',
    agent: 'c',
    service: 'alpha',
    method: 'GET',
    path: '/a',
    decision: 'allowed',
    time: at(50),
  },
  {
    requestId: 'r8',
    channel: 'mcp',
    agent: 'b',
    service: 'slack',
    method: 'GET',
    path: '/s',
    decision: 'allowed',
    time: at(60),
  },
]

interface Seeded {
  /** ids[i] is SEED[i]'s id; then the two system entries. */
  ids: number[]
  all: LedgerEntry[]
}

/** Appends the seed one by one (ids in order), completes three, adds two system entries. */
async function seed(store: LedgerStore): Promise<Seeded> {
  const ids: number[] = []
  for (const input of SEED) ids.push(await store.append(input))
  const [i1, , , , , i6, i7] = ids as [number, number, number, number, number, number, number]
  store.complete(i1, { status: 200, durationMs: 12, bytesIn: 5, bytesOut: 100, redactions: 2 })
  // A streamed body found too large after the fact: the completion decides anew.
  store.complete(i6, {
    decision: 'blocked',
    code: 'body_too_large',
    status: 413,
    durationMs: 30,
    bytesIn: 9,
    bytesOut: 0,
    inspection: 'block:aws-key',
  })
  store.complete(i7, { status: 201, durationMs: 7, bytesIn: 1, bytesOut: 2 })
  await store.flush()
  ids.push(await store.system('gate_start', 'listening on :3100'))
  ids.push(await store.system('gate_stop'))
  const all = await store.query({ order: 'asc', limit: 100 })
  return { ids, all }
}

/** What `query` must return: the filter applied to the whole ledger in plain JavaScript. */
function expected(all: readonly LedgerEntry[], f: LedgerFilter): LedgerEntry[] {
  const time = (e: LedgerEntry): number => Date.parse(e.time)
  const kept = all.filter(
    (e) =>
      (f.service === undefined || e.service === f.service) &&
      (f.agent === undefined || e.agent === f.agent) &&
      (f.blocked !== true || e.decision === 'blocked') &&
      (f.system !== true || e.decision === 'system') &&
      (f.requests !== true || e.decision !== 'system') &&
      (f.decision === undefined || e.decision === f.decision) &&
      (f.code === undefined || e.code === f.code) &&
      (f.channel === undefined || e.channel === f.channel) &&
      (f.afterId === undefined || e.id > f.afterId) &&
      (f.beforeId === undefined || e.id < f.beforeId) &&
      (f.since === undefined || time(e) >= f.since.getTime()) &&
      (f.until === undefined || time(e) < f.until.getTime()),
  )
  const byId = f.afterId !== undefined || f.beforeId !== undefined
  kept.sort((x, y) => (byId ? x.id - y.id : time(x) - time(y) || x.id - y.id))
  if (f.order !== 'asc') kept.reverse()
  return kept.slice(0, f.limit ?? 20)
}

async function collect(iterable: AsyncIterable<LedgerEntry>): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = []
  for await (const entry of iterable) out.push(entry)
  return out
}

async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function request(overrides: Partial<LedgerEntryInput> = {}): LedgerEntryInput {
  return { requestId: 'q', channel: 'gate', method: 'GET', path: '/p', decision: 'allowed', ...overrides }
}

export function ledgerStoreContract(name: string, open: OpenStore): void {
  describe(`LedgerStore contract: ${name}`, () => {
    let opened: LedgerStore[] = []
    const openStore = async (options?: OpenOptions): Promise<LedgerStore> => {
      const store = await open(options)
      opened.push(store)
      return store
    }
    afterEach(async () => {
      for (const store of opened) await store.close().catch(() => {})
      opened = []
    })

    it('stores every field as given (query cut from the path), completions included', async () => {
      const store = await openStore()
      const { ids, all } = await seed(store)
      expect(store.engine).toBe(name)
      expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      expect(all.map((e) => e.id)).toEqual(ids)
      expect(all[0]).toEqual({
        id: 1,
        time: iso(0),
        requestId: 'r1',
        channel: 'gate',
        agent: 'a',
        credential: 'gh',
        service: 'github',
        targetHost: 'api.github.com',
        method: 'GET',
        path: '/repos/acme',
        decision: 'allowed',
        code: null,
        status: 200,
        durationMs: 12,
        bytesIn: 5,
        bytesOut: 100,
        redactions: 2,
      })
      expect(all[2]).toEqual({
        id: 3,
        time: iso(20),
        requestId: 'r3',
        channel: 'mcp',
        agent: 'a',
        credential: null,
        service: 'github',
        targetHost: null,
        method: 'GET',
        path: '/user',
        decision: 'blocked',
        code: 'rate_limited',
        status: 429,
        durationMs: null,
        bytesIn: null,
        bytesOut: null,
        inspection: 'warn:github-token',
      })
      expect(all[5]).toMatchObject({
        requestId: 'r6',
        decision: 'blocked',
        code: 'body_too_large',
        status: 413,
        durationMs: 30,
        dryRun: 'scope_denied',
        inspection: 'block:aws-key',
      })
      expect(all[8]).toMatchObject({
        id: 9,
        channel: 'system',
        decision: 'system',
        requestId: null,
        method: null,
        event: 'gate_start',
        detail: 'listening on :3100',
      })
      expect(all[9]).not.toHaveProperty('detail')
      expect(Date.parse(all[9]?.time ?? '')).toBeGreaterThan(Date.now() - 60_000)
    })

    const T = (s: number) => at(s)
    const FILTERS: [string, (ids: number[]) => LedgerFilter][] = [
      ['no filter (newest first, 20 at most)', () => ({})],
      ['service', () => ({ service: 'github' })],
      ['service, no match', () => ({ service: 'GitHub' })],
      ['agent', () => ({ agent: 'a' })],
      ['agent is case-sensitive', () => ({ agent: 'B' })],
      ['blocked', () => ({ blocked: true })],
      ['system', () => ({ system: true })],
      ['requests', () => ({ requests: true })],
      ['decision failed', () => ({ decision: 'failed' })],
      ['decision system', () => ({ decision: 'system' })],
      ['code', () => ({ code: 'domain_denied' })],
      ['channel mcp', () => ({ channel: 'mcp' })],
      ['channel system', () => ({ channel: 'system' })],
      ['afterId (by id, newest first)', (ids) => ({ afterId: ids[2] })],
      ['afterId ascending, limited', (ids) => ({ afterId: ids[2], order: 'asc', limit: 3 })],
      ['beforeId', (ids) => ({ beforeId: ids[4] })],
      ['afterId and beforeId', (ids) => ({ afterId: ids[1], beforeId: ids[6], order: 'asc' })],
      ['since inclusive, until exclusive', () => ({ since: T(10), until: T(40) })],
      ['since only', () => ({ since: T(40) })],
      ['until only', () => ({ until: T(10) })],
      ['limit', () => ({ limit: 2 })],
      ['ascending (ties by id)', () => ({ order: 'asc' })],
      ['combined', () => ({ agent: 'a', blocked: true, requests: true, channel: 'gate' })],
      ['code and range', () => ({ code: 'domain_denied', since: T(0), until: T(31), order: 'asc' })],
    ]

    it.each(FILTERS)('query: %s', async (_, make) => {
      const store = await openStore()
      const { ids, all } = await seed(store)
      const filter = make(ids)
      const got = await store.query(filter)
      expect(got).toEqual(expected(all, filter))
    })

    it('query: the reference itself is right (spot checks)', async () => {
      const store = await openStore()
      const { all } = await seed(store)
      const ids = (f: LedgerFilter) => store.query(f).then((r) => r.map((e) => e.requestId ?? e.event))
      expect(await ids({ service: 'github' })).toEqual(['r6', 'r3', 'r1'])
      expect(await ids({ since: T(40), until: T(41), order: 'asc' })).toEqual(['r5', 'r6'])
      expect(await ids({ blocked: true })).toEqual(['r6', 'r4', 'r3', 'r2'])
      expect(await ids({ afterId: 8 })).toEqual(['gate_stop', 'gate_start'])
      expect(all).toHaveLength(10)
    })

    it.each([
      ['limit 0', { limit: 0 }],
      ['a fractional limit', { limit: 1.5 }],
      ['a negative afterId', { afterId: -1 }],
      ['an unknown decision', { decision: 'maybe' }],
      ['an unknown channel', { channel: 'smtp' }],
      ['an unknown order', { order: 'sideways' }],
      ['an invalid since', { since: new Date('nope') }],
    ] as [string, LedgerFilter][])('query and iterate refuse %s (invalid_filter)', async (_, filter) => {
      const store = await openStore()
      await expect(store.query(filter)).rejects.toMatchObject({ code: 'invalid_filter' })
      if (filter.order === undefined) {
        await expect(collect(store.iterate(filter))).rejects.toMatchObject({ code: 'invalid_filter' })
      }
    })

    it('entries: those that exist, by id; refuses more than 1000 or non-integers', async () => {
      const store = await openStore()
      const { all } = await seed(store)
      expect(await store.entries([7, 2, 999, 9])).toEqual([all[1], all[6], all[8]])
      expect(await store.entries([])).toEqual([])
      await expect(store.entries(Array.from({ length: 1001 }, (_, i) => i))).rejects.toMatchObject({
        code: 'invalid_filter',
      })
      await expect(store.entries([1.5])).rejects.toMatchObject({ code: 'invalid_filter' })
    })

    it('stats: counts, and groups largest first with ties in byte order', async () => {
      const store = await openStore()
      await seed(store)
      const stats = await store.stats()
      expect(stats).toEqual({
        total: 8,
        allowed: 3,
        blocked: 4,
        failed: 1,
        system: 2,
        byService: { github: 3, slack: 2, Zeta: 1, alpha: 1 },
        byAgent: { a: 3, b: 2, B: 1, c: 1 },
        byCode: { domain_denied: 2, body_too_large: 1, rate_limited: 1, upstream_timeout: 1 },
      })
      expect(Object.keys(stats.byService)).toEqual(['github', 'slack', 'Zeta', 'alpha'])
      expect(Object.keys(stats.byCode)).toEqual([
        'domain_denied',
        'body_too_large',
        'rate_limited',
        'upstream_timeout',
      ])
      expect(await store.stats({ agent: 'a', since: T(10), until: T(50) })).toEqual({
        total: 2,
        allowed: 0,
        blocked: 2,
        failed: 0,
        system: 0,
        byService: { github: 2 },
        byAgent: { a: 2 },
        byCode: { body_too_large: 1, rate_limited: 1 },
      })
      expect((await store.stats({ service: 'slack' })).byAgent).toEqual({ b: 2 })
    })

    it('timeline: buckets from since, empty ones included, system entries never counted', async () => {
      const store = await openStore()
      await seed(store)
      expect(await store.timeline({ since: T(0), until: T(60), bucketSeconds: 20 })).toEqual([
        { t: iso(0), allowed: 1, blocked: 1, failed: 0 },
        { t: iso(20), allowed: 0, blocked: 2, failed: 0 },
        { t: iso(40), allowed: 1, blocked: 1, failed: 1 },
      ])
      expect(await store.timeline({ since: T(-30), until: T(5), bucketSeconds: 10 })).toEqual([
        { t: iso(-30), allowed: 0, blocked: 0, failed: 0 },
        { t: iso(-20), allowed: 0, blocked: 0, failed: 0 },
        { t: iso(-10), allowed: 0, blocked: 0, failed: 0 },
        { t: iso(0), allowed: 1, blocked: 0, failed: 0 },
      ])
      await expect(store.timeline({ since: T(0), until: T(10), bucketSeconds: 0 })).rejects.toMatchObject({
        code: 'invalid_filter',
      })
    })

    it('window: counts and the nearest-rank p95 of completed durations', async () => {
      const store = await openStore()
      await seed(store)
      expect(await store.window({ since: T(0), until: T(70) })).toEqual({
        requests: 8,
        blocked: 4,
        failed: 1,
        p95Ms: 30,
      })
      expect(await store.window({ since: T(10), until: T(40) })).toEqual({
        requests: 3,
        blocked: 3,
        failed: 0,
        p95Ms: null,
      })
      // 20 durations 1..20 in shuffled order: nearest rank ceil(0.95 × 20) = 19th.
      const durations = [7, 3, 20, 1, 15, 19, 2, 11, 18, 4, 9, 16, 5, 13, 8, 17, 6, 12, 14, 10]
      const ids = await Promise.all(durations.map((_, i) => store.append(request({ time: at(1000 + i) }))))
      ids.forEach((id, i) => {
        store.complete(id, { durationMs: durations[i] ?? 0, bytesIn: 0, bytesOut: 0 })
      })
      await store.flush()
      expect(await store.window({ since: T(1000), until: T(1100) })).toEqual({
        requests: 20,
        blocked: 0,
        failed: 0,
        p95Ms: 19,
      })
      await expect(store.window({ since: T(10), until: T(0) })).rejects.toMatchObject({
        code: 'invalid_filter',
      })
    })

    it('blockedGroups: by code and agent or by code only, largest then newest first, limited', async () => {
      const store = await openStore()
      await seed(store)
      const range = { since: T(0), until: T(70) }
      expect(await store.blockedGroups(range)).toEqual([
        { code: 'body_too_large', agent: 'a', count: 1, lastSeen: iso(40) },
        { code: 'domain_denied', agent: null, count: 1, lastSeen: iso(30) },
        { code: 'rate_limited', agent: 'a', count: 1, lastSeen: iso(20) },
        { code: 'domain_denied', agent: 'b', count: 1, lastSeen: iso(10) },
      ])
      expect(await store.blockedGroups({ ...range, byAgent: false })).toEqual([
        { code: 'domain_denied', agent: null, count: 2, lastSeen: iso(30) },
        { code: 'body_too_large', agent: null, count: 1, lastSeen: iso(40) },
        { code: 'rate_limited', agent: null, count: 1, lastSeen: iso(20) },
      ])
      expect(await store.blockedGroups({ ...range, byAgent: false, limit: 1 })).toHaveLength(1)
      await expect(store.blockedGroups({ ...range, limit: 0 })).rejects.toMatchObject({
        code: 'invalid_filter',
      })
    })

    it('iterate: oldest first across many pages, filtered, limited, and stoppable', async () => {
      const store = await openStore()
      const n = 1234
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.append(
            request({ requestId: `i${i}`, service: i % 3 === 0 ? 'three' : 'other', time: at(i % 600) }),
          ),
        ),
      )
      const all = await collect(store.iterate())
      expect(all).toHaveLength(n)
      const sorted = [...all].sort((x, y) => Date.parse(x.time) - Date.parse(y.time) || x.id - y.id)
      expect(all.map((e) => e.id)).toEqual(sorted.map((e) => e.id))
      expect(new Set(all.map((e) => e.id)).size).toBe(n)
      const three = await collect(store.iterate({ service: 'three' }))
      expect(three).toEqual(all.filter((e) => e.service === 'three'))
      expect(await collect(store.iterate({ limit: 777 }))).toEqual(all.slice(0, 777))
      expect(await collect(store.iterate({ since: T(599) }))).toEqual(all.filter((e) => e.time === iso(599)))
      let seen = 0
      for await (const _ of store.iterate()) if (++seen === 3) break
      expect(seen).toBe(3)
      expect(await store.append(request())).toBe(n + 1)
    })

    it('iterate: an entry committed after the iteration began is not part of it', async () => {
      const store = await openStore()
      await Promise.all(Array.from({ length: 3 }, (_, i) => store.append(request({ time: at(i) }))))
      const iterator = store.iterate()[Symbol.asyncIterator]()
      expect((await iterator.next()).value).toMatchObject({ id: 1 })
      await store.append(request({ time: at(100) }))
      const rest: number[] = []
      for (let step = await iterator.next(); !step.done; step = await iterator.next())
        rest.push(step.value.id)
      expect(rest).toEqual([2, 3])
    })

    it('exportLedger: jsonl and csv of the store equal its entries, oldest first', async () => {
      const store = await openStore()
      const { all } = await seed(store)
      const text = async (format: 'csv' | 'jsonl', filter: LedgerFilter) => {
        const out = new PassThrough()
        const chunks: Buffer[] = []
        out.on('data', (c: Buffer) => chunks.push(c))
        const { rows } = await exportLedger(store, format, filter, out)
        return { rows, text: Buffer.concat(chunks).toString('utf8') }
      }
      const jsonl = await text('jsonl', { requests: true })
      const requests = all.filter((e) => e.decision !== 'system')
      expect(jsonl.rows).toBe(8)
      expect(jsonl.text).toBe(requests.map((e) => `${JSON.stringify(e)}\n`).join(''))
      const csv = await text('csv', { agent: 'a' })
      expect(csv.rows).toBe(3)
      expect(csv.text.split('\r\n')[1]).toBe(
        '1,2026-03-01T12:00:00.000Z,r1,gate,a,gh,github,api.github.com,GET,/repos/acme,allowed,,200,12,5,100,,2,,,',
      )
    })

    it('append: a malformed entry is refused alone, never poisoning its batch', async () => {
      const store = await openStore()
      const results = await Promise.allSettled([
        store.append(request({ requestId: 'good-1' })),
        store.append(request({ method: 'GE T' })),
        store.append(request({ inspection: 'the secret itself: ghp_123' })),
        store.append({ ...request(), channel: 'smtp' } as unknown as LedgerEntryInput),
        store.system('Bad Event'),
        store.append(request({ requestId: 'good-2' })),
      ])
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
        'rejected',
        'fulfilled',
      ])
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'invalid_entry' })
      expect((await store.query()).map((e) => e.requestId)).toEqual(['good-2', 'good-1'])
    })

    it('text with U+0000 is stored as U+FFFD, and a filter with it still matches', async () => {
      const store = await openStore()
      const [id] = await Promise.all([
        store.append(request({ path: '/a\0b', agent: 'x\0y', requestId: 'n\0l' })),
        store.append(request({ requestId: 'neighbour' })),
      ])
      const [entry] = await store.entries([id as number])
      expect(entry).toMatchObject({ path: '/a\uFFFDb', agent: 'x\uFFFDy', requestId: 'n\uFFFDl' })
      expect(await store.query({ agent: 'x\0y' })).toHaveLength(1)
    })

    it('a lone surrogate is stored as U+FFFD (valid UTF-8), and a filter with it still matches', async () => {
      const store = await openStore()
      const id = await store.append(request({ path: '/a\ud800b', agent: 'x\udc00', requestId: 'n\ud83d' }))
      const [entry] = await store.entries([id])
      expect(entry).toMatchObject({ path: '/a\uFFFDb', agent: 'x\uFFFD', requestId: 'n\uFFFD' })
      expect(await store.query({ agent: 'x\udc00' })).toHaveLength(1)
    })

    it('complete: applied without a flush within a bounded delay; system, unknown and bad ids are dropped', async () => {
      const store = await openStore()
      const id = await store.append(request())
      const system = await store.system('gate_start')
      store.complete(id, { status: 202, durationMs: 3, bytesIn: 1, bytesOut: 1 })
      await eventually(async () => (await store.entries([id]))[0]?.status === 202, 500, 'the completion')
      store.complete(system, { status: 500, durationMs: 1, bytesIn: 0, bytesOut: 0 })
      store.complete(424242, { status: 500, durationMs: 1, bytesIn: 0, bytesOut: 0 })
      store.complete(-1, { status: 500, durationMs: 1, bytesIn: 0, bytesOut: 0 })
      await store.flush()
      expect((await store.entries([system]))[0]).toMatchObject({ status: null, durationMs: null })
      expect(store.metrics).toMatchObject({ completed: 1, droppedCompletes: 3, pending: 0 })
    })

    it('complete: two completions of one entry in one batch apply in order', async () => {
      const store = await openStore()
      const id = await store.append(request())
      store.complete(id, {
        status: 201,
        code: 'first',
        durationMs: 5,
        bytesIn: 1,
        bytesOut: 1,
        redactions: 4,
      })
      store.complete(id, { decision: 'failed', durationMs: 9, bytesIn: 2, bytesOut: 3 })
      await store.flush()
      expect((await store.entries([id]))[0]).toMatchObject({
        decision: 'failed',
        code: 'first',
        status: 201,
        durationMs: 9,
        bytesIn: 2,
        bytesOut: 3,
        redactions: 4,
      })
      expect(store.metrics).toMatchObject({ completed: 2, droppedCompletes: 0 })
    })

    it('1000 concurrent appends: 1000 rows, distinct ids, far fewer transactions', async () => {
      const store = await openStore()
      const ids = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => store.append(request({ requestId: `c${i}` }))),
      )
      expect(new Set(ids).size).toBe(1000)
      expect((await store.stats()).total).toBe(1000)
      const rows = await store.entries(ids)
      expect(rows.map((e) => e.requestId).sort()).toEqual(ids.map((_, i) => `c${i}`).sort())
      // Each id is the row of the append it was returned to.
      expect(rows.every((e) => e.requestId === `c${ids.indexOf(e.id)}`)).toBe(true)
      expect(store.metrics.appended).toBe(1000)
      expect(store.metrics.batches).toBeGreaterThanOrEqual(1)
      expect(store.metrics.batches).toBeLessThan(100)
    })

    it('appends spread over 200 event-loop turns are grouped too', async () => {
      const store = await openStore()
      const pending: Promise<number>[] = []
      for (let turn = 0; turn < 200; turn++) {
        for (let i = 0; i < 5; i++) pending.push(store.append(request()))
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect(new Set(await Promise.all(pending)).size).toBe(1000)
      expect(store.metrics.appended).toBe(1000)
      expect(store.metrics.batches).toBeLessThanOrEqual(200)
    })

    it('an extension that throws fails its whole batch: every append rejects, nothing commits', async () => {
      let fail = true
      const seen: LedgerEntry[][] = []
      const store = await openStore({
        extensions: [
          {
            written(entries) {
              seen.push([...entries])
              if (fail) throw new Error('outbox full')
            },
          },
        ],
      })
      const results = await Promise.allSettled([
        store.append(request()),
        store.append(request()),
        store.system('gate_start'),
      ])
      expect(results.every((r) => r.status === 'rejected')).toBe(true)
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'write_failed' })
      expect(await store.query()).toEqual([])
      expect(store.metrics).toMatchObject({ failedBatches: 1, appended: 0 })
      fail = false
      const id = await store.append(request({ requestId: 'after' }))
      expect((await store.query()).map((e) => e.id)).toEqual([id])
      expect(seen.at(-1)?.map((e) => e.id)).toEqual([id])
    })

    it('an extension sees the new entries it wants, and those a completion decided anew', async () => {
      const seen: LedgerEntry[][] = []
      const store = await openStore({
        extensions: [{ decisions: ['blocked'], written: (e) => seen.push([...e]) }],
      })
      const [allowed, blocked] = await Promise.all([
        store.append(request({ requestId: 'ok' })),
        store.append(request({ requestId: 'no', decision: 'blocked', code: 'domain_denied' })),
        store.system('gate_start'),
      ])
      expect(seen).toEqual([[expect.objectContaining({ id: blocked, requestId: 'no' })]])
      store.complete(allowed as number, {
        decision: 'blocked',
        code: 'body_too_large',
        durationMs: 1,
        bytesIn: 0,
        bytesOut: 0,
      })
      await store.flush()
      expect(seen[1]).toEqual([
        expect.objectContaining({ id: allowed, decision: 'blocked', code: 'body_too_large' }),
      ])
    })

    it('after close: appends and reads are refused, completions dropped; close is idempotent', async () => {
      const store = await openStore()
      const id = await store.append(request())
      await store.close()
      await store.close()
      await expect(store.append(request())).rejects.toMatchObject({ code: 'closed' })
      await expect(store.system('gate_stop')).rejects.toMatchObject({ code: 'closed' })
      await expect(store.query()).rejects.toMatchObject({ code: 'closed' })
      await expect(collect(store.iterate())).rejects.toMatchObject({ code: 'closed' })
      store.complete(id, { durationMs: 1, bytesIn: 0, bytesOut: 0 })
      expect(store.metrics.droppedCompletes).toBe(1)
    })

    it('close writes what is queued first', async () => {
      const store = await openStore()
      const id = await store.append(request())
      const late = store.append(request({ requestId: 'late' }))
      store.complete(id, { status: 299, durationMs: 1, bytesIn: 0, bytesOut: 0 })
      await store.close()
      expect(await late).toBe(id + 1)
      expect(store.metrics).toMatchObject({ appended: 2, completed: 1, pending: 0 })
    })
  })
}
