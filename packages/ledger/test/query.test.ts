import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Ledger, openLedger } from '../src/index.js'
import { entry, tempLedgerFile } from './helpers.js'

let ledger: Ledger

/** A small ledger: three days, two services, two agents, every decision, two system events. */
beforeEach(async () => {
  ledger = openLedger({ file: tempLedgerFile() })
  const day = (d: number, h = 12) => new Date(Date.UTC(2026, 2, d, h))
  await Promise.all([
    ledger.append(entry({ requestId: 'a', time: day(1), service: 'slack', agent: 'research-bot' })),
    ledger.append(
      entry({
        requestId: 'b',
        time: day(1, 13),
        service: 'slack',
        agent: 'writer',
        decision: 'blocked',
        code: 'scope_denied',
        status: 403,
      }),
    ),
    ledger.append(entry({ requestId: 'c', time: day(2), service: 'github', agent: 'research-bot' })),
    ledger.append(
      entry({
        requestId: 'd',
        time: day(2, 14),
        service: 'github',
        agent: 'writer',
        decision: 'failed',
        code: 'upstream_timeout',
        status: 504,
      }),
    ),
    ledger.append(
      entry({
        requestId: 'e',
        time: day(3),
        service: 'github',
        agent: 'research-bot',
        decision: 'blocked',
        code: 'domain_denied',
        status: 403,
      }),
    ),
    ledger.append(
      entry({
        requestId: 'f',
        time: day(3, 13),
        service: 'nope',
        agent: null,
        credential: null,
        decision: 'blocked',
        code: 'service_not_found',
        status: 404,
      }),
    ),
    ledger.append(
      entry({
        requestId: 'g',
        time: day(3, 14),
        service: 'slack',
        agent: 'writer',
        dryRun: 'policy_denied',
        status: 200,
      }),
    ),
  ])
  await ledger.system('gate_start')
  await ledger.system('gate_stop', 'drained')
})

afterEach(async () => {
  await ledger.close()
})

const ids = (list: { requestId: string | null; event?: string }[]) => list.map((e) => e.requestId ?? e.event)

describe('query', () => {
  it('returns everything newest first, requests and system events, 20 at most by default', async () => {
    expect(ids(ledger.query({}))).toEqual(['gate_stop', 'gate_start', 'g', 'f', 'e', 'd', 'c', 'b', 'a'])
    await Promise.all(Array.from({ length: 30 }, () => ledger.append(entry())))
    expect(ledger.query({})).toHaveLength(20)
    expect(ledger.query({ limit: 50 })).toHaveLength(39)
  })

  it('filters by service, agent, blocked and system', () => {
    expect(ids(ledger.query({ service: 'slack' }))).toEqual(['g', 'b', 'a'])
    expect(ids(ledger.query({ agent: 'writer' }))).toEqual(['g', 'd', 'b'])
    expect(ids(ledger.query({ blocked: true }))).toEqual(['f', 'e', 'b'])
    expect(ids(ledger.query({ system: true }))).toEqual(['gate_stop', 'gate_start'])
    expect(ids(ledger.query({ blocked: true, service: 'github' }))).toEqual(['e'])
    expect(ids(ledger.query({ blocked: false, system: false, service: 'github' }))).toEqual(['e', 'd', 'c'])
  })

  it('filters by time: since inclusive, until exclusive', () => {
    const since = new Date('2026-03-02T00:00:00Z')
    const until = new Date('2026-03-03T12:00:00Z')
    expect(ids(ledger.query({ since, until }))).toEqual(['d', 'c'])
    expect(
      ids(ledger.query({ since: new Date('2026-03-03T14:00:00Z'), system: false, service: 'slack' })),
    ).toEqual(['g'])
    expect(ledger.query({ until: new Date('2026-03-01T12:00:00Z') })).toEqual([])
  })

  it('honours the limit and keeps the newest', () => {
    expect(ids(ledger.query({ service: 'github', limit: 2 }))).toEqual(['e', 'd'])
  })

  it('returns the interface entry shape, with dryRun only when set', () => {
    const [g, f] = ledger.query({
      since: new Date('2026-03-03T13:00:00Z'),
      until: new Date('2026-03-03T15:00:00Z'),
    })
    expect(g).toEqual({
      id: expect.any(Number),
      time: '2026-03-03T14:00:00.000Z',
      requestId: 'g',
      channel: 'gate',
      agent: 'writer',
      credential: 'github-main',
      service: 'slack',
      targetHost: 'api.github.com',
      method: 'GET',
      path: '/repos/acme/app',
      decision: 'allowed',
      code: null,
      status: 200,
      durationMs: null,
      bytesIn: null,
      bytesOut: null,
      dryRun: 'policy_denied',
    })
    expect(f).not.toHaveProperty('dryRun')
    expect(f).toMatchObject({ agent: null, credential: null, code: 'service_not_found' })
  })

  it('refuses a bad limit or an invalid date', () => {
    expect(() => ledger.query({ limit: 0 })).toThrow('limit must be a positive integer')
    expect(() => ledger.query({ limit: 1.5 })).toThrow('limit must be a positive integer')
    expect(() => ledger.query({ since: new Date('nope') })).toThrow('bad since')
  })

  it('treats filter values as data, never as SQL', () => {
    expect(ledger.query({ service: "slack' OR '1'='1" })).toEqual([])
    expect(ledger.query({ agent: '%' })).toEqual([])
  })
})

describe('iterate', () => {
  it('streams matching entries oldest first', () => {
    expect(ids([...ledger.iterate({ agent: 'research-bot' })])).toEqual(['a', 'c', 'e'])
    expect(ids([...ledger.iterate({})])).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'g',
      'gate_start',
      'gate_stop',
    ])
    expect(ids([...ledger.iterate({ limit: 2 })])).toEqual(['a', 'b'])
  })

  it('does not hold up appends while an iteration is open', async () => {
    const rows = ledger.iterate({})
    expect(rows.next().value).toMatchObject({ requestId: 'a' })
    const id = await ledger.append(entry({ requestId: 'during' }))
    expect(ledger.query({ limit: 1 })[0]?.id).toBe(id)
    expect(ids([...rows])).toEqual(['b', 'c', 'd', 'e', 'f', 'g', 'gate_start', 'gate_stop'])
  })
})

describe('stats', () => {
  it('counts requests by decision, service, agent and code; system entries apart', () => {
    expect(ledger.stats({})).toEqual({
      total: 7,
      allowed: 3,
      blocked: 3,
      failed: 1,
      system: 2,
      byService: { github: 3, slack: 3, nope: 1 },
      byAgent: { 'research-bot': 3, writer: 3 },
      byCode: { scope_denied: 1, upstream_timeout: 1, domain_denied: 1, service_not_found: 1 },
    })
  })

  it('narrows by agent, service and since', () => {
    expect(ledger.stats({ agent: 'writer' })).toMatchObject({
      total: 3,
      allowed: 1,
      blocked: 1,
      failed: 1,
      system: 0,
      byService: { slack: 2, github: 1 },
      byAgent: { writer: 3 },
    })
    expect(ledger.stats({ since: new Date('2026-03-03T00:00:00Z') })).toMatchObject({
      total: 3,
      system: 2,
      byService: { github: 1, nope: 1, slack: 1 },
    })
    expect(ledger.stats({ service: 'github', since: new Date('2026-03-02T12:00:00Z') })).toMatchObject({
      total: 3,
      byCode: { upstream_timeout: 1, domain_denied: 1 },
    })
  })

  it('returns zeros and empty maps for an empty selection', () => {
    expect(ledger.stats({ agent: 'nobody' })).toEqual({
      total: 0,
      allowed: 0,
      blocked: 0,
      failed: 0,
      system: 0,
      byService: {},
      byAgent: {},
      byCode: {},
    })
  })

  it('keeps hostile names as plain keys', async () => {
    await ledger.append(entry({ service: '__proto__', agent: 'constructor' }))
    const stats = ledger.stats({ service: '__proto__' })
    expect(Object.getPrototypeOf(stats.byService)).toBe(Object.prototype)
    expect(Object.keys(stats.byService)).toEqual(['__proto__'])
    expect(stats.byAgent).toEqual({ constructor: 1 })
  })
})
