import { describe, expect, it } from 'vitest'
import { exportCommand } from '../src/feed/export-command.js'
import { EMPTY_FILTER, filterQuery, matchesFilter, sameFilter, sinceCutoff } from '../src/feed/filter.js'
import { entry } from './fixtures.js'

const now = new Date('2026-12-06T07:00:00.000Z')

describe('filterQuery', () => {
  it('sends only the filters that are set, trimmed, with since as an ISO time', () => {
    expect(
      filterQuery({ service: ' github ', agent: '', decision: 'blocked', code: '', since: '1h' }, now),
    ).toEqual({
      service: 'github',
      agent: undefined,
      decision: 'blocked',
      code: undefined,
      since: '2026-12-06T06:00:00.000Z',
    })
  })

  it('an unknown since choice means no bound (never an arbitrary string to the server)', () => {
    expect(sinceCutoff('1y', now)).toBeNull()
    expect(sinceCutoff('constructor', now)).toBeNull()
    expect(filterQuery({ ...EMPTY_FILTER, since: 'toString' }, now).since).toBeUndefined()
  })
})

describe('matchesFilter', () => {
  const rows: [string, Parameters<typeof matchesFilter>[1], boolean][] = [
    ['no filter', EMPTY_FILTER, true],
    ['same service', { ...EMPTY_FILTER, service: 'github' }, true],
    ['other service', { ...EMPTY_FILTER, service: 'stripe' }, false],
    ['service is exact, not a prefix', { ...EMPTY_FILTER, service: 'git' }, false],
    ['same agent', { ...EMPTY_FILTER, agent: 'coder' }, true],
    ['other agent', { ...EMPTY_FILTER, agent: 'coder2' }, false],
    ['decision allowed', { ...EMPTY_FILTER, decision: 'allowed' }, true],
    ['decision blocked', { ...EMPTY_FILTER, decision: 'blocked' }, false],
    ['a code on an entry without one', { ...EMPTY_FILTER, code: 'rate_limited' }, false],
  ]
  it.each(rows)('%s', (_name, filter, expected) => {
    expect(matchesFilter(entry(1), filter, null)).toBe(expected)
  })

  it('matches the code and the cutoff', () => {
    const blocked = entry(1, { decision: 'blocked', code: 'rate_limited', time: '2026-12-06T06:30:00.000Z' })
    expect(matchesFilter(blocked, { ...EMPTY_FILTER, code: 'rate_limited' }, null)).toBe(true)
    expect(matchesFilter(blocked, EMPTY_FILTER, new Date('2026-12-06T06:31:00.000Z'))).toBe(false)
    expect(matchesFilter(blocked, EMPTY_FILTER, new Date('2026-12-06T06:30:00.000Z'))).toBe(true)
  })

  it('sameFilter ignores surrounding spaces only', () => {
    expect(sameFilter({ ...EMPTY_FILTER, agent: ' a ' }, { ...EMPTY_FILTER, agent: 'a' })).toBe(true)
    expect(sameFilter({ ...EMPTY_FILTER, since: '1h' }, EMPTY_FILTER)).toBe(false)
  })
})

describe('exportCommand', () => {
  it('names the CLI export for the filter and quotes what the shell would split', () => {
    const { command, missing } = exportCommand(
      { service: 'github', agent: "it's me", decision: 'blocked', code: '', since: '24h' },
      now,
    )
    expect(command).toBe(
      "aegis ledger export --format csv --service github --agent 'it'\\''s me' --since 2026-12-05T07:00:00.000Z -o ledger.csv",
    )
    expect(missing).toEqual(['decision'])
  })
})
