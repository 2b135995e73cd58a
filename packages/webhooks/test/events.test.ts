import { describe, expect, it } from 'vitest'
import { coalesceKey, type EntryLike, EVENT_TYPES, entryData, eventTypeOf } from '../src/index.js'

const entry = (over: Partial<EntryLike> & Record<string, unknown>): EntryLike => ({
  time: '2026-12-01T12:00:00.000Z',
  requestId: 'r1',
  channel: 'gate',
  agent: 'bot',
  credential: 'github',
  service: 'github',
  method: 'GET',
  decision: 'blocked',
  code: 'domain_denied',
  status: 403,
  ...over,
})

describe('event types', () => {
  it('are the five of the brief', () => {
    expect([...EVENT_TYPES].sort()).toEqual(
      [
        'agent_auth_failure',
        'blocked_request',
        'body_inspection',
        'credential_expiry',
        'rate_limit_exceeded',
      ].sort(),
    )
  })

  it.each([
    ['agent_auth_required', 'blocked', 'agent_auth_failure'],
    ['agent_auth_invalid', 'blocked', 'agent_auth_failure'],
    ['rate_limited', 'blocked', 'rate_limit_exceeded'],
    ['body_inspection', 'blocked', 'body_inspection'],
    ['domain_denied', 'blocked', 'blocked_request'],
    ['policy_denied', 'blocked', 'blocked_request'],
    ['service_not_found', 'blocked', 'blocked_request'],
    ['upstream_timeout', 'failed', null],
    [null, 'allowed', null],
    [null, 'system', null],
  ])('code %s decided %s raises %s', (code, decision, type) => {
    expect(eventTypeOf(entry({ code, decision }))).toBe(type)
  })
})

describe('entryData', () => {
  it('never carries the path, query, target host or anything else the agent wrote', () => {
    const secret = 'ghp_0123456789abcdefghijABCDEFGHIJ012345'
    const data = entryData(
      entry({
        code: 'body_inspection',
        path: `/github/repos/${secret}?token=${secret}`,
        targetHost: `${secret}.example.com`,
        inspection: 'block:github-token',
      }),
    )
    const json = JSON.stringify(data)
    expect(json).not.toContain(secret)
    expect(json).not.toContain('?')
    expect(Object.keys(data).sort()).toEqual(
      ['agent', 'code', 'count', 'firstSeen', 'lastSeen', 'method', 'requestId', 'service', 'status'].sort(),
    )
  })

  it('keeps a service only when a configured credential served it (else it is the agent text)', () => {
    const secret = 'sk-live-0123456789abcdefghij'
    expect(
      entryData(entry({ credential: null, service: secret, code: 'service_not_found' })).service,
    ).toBeNull()
    expect(entryData(entry({})).service).toBe('github')
  })

  it('coalesces on (type, service, agent, code) only', () => {
    const a = entryData(entry({ requestId: 'r1', time: '2026-12-01T12:00:00.000Z' }))
    const b = entryData(entry({ requestId: 'r2', time: '2026-12-01T12:00:01.000Z', method: 'POST' }))
    expect(coalesceKey('blocked_request', a)).toBe(coalesceKey('blocked_request', b))
    expect(coalesceKey('blocked_request', a)).not.toBe(
      coalesceKey('blocked_request', { ...a, agent: 'other' }),
    )
    expect(coalesceKey('blocked_request', a)).not.toBe(coalesceKey('body_inspection', a))
  })
})
