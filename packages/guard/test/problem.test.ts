import { describe, expect, it } from 'vitest'
import {
  isRefusalCode,
  PROBLEM_CONTENT_TYPE,
  type ProblemDocument,
  problemDocument,
  problemOf,
  REFUSAL_STATUS,
  REFUSAL_TITLE,
  type RefusalCode,
  rateLimited,
  refuse,
  retryAfterMilliseconds,
  retryAfterSeconds,
  shouldRetry,
} from '../src/index.js'

/** The interface contract §4 table. */
const CONTRACT: [RefusalCode, number][] = [
  ['bad_request', 400],
  ['agent_auth_required', 401],
  ['agent_auth_invalid', 401],
  ['grant_denied', 403],
  ['scope_denied', 403],
  ['policy_denied', 403],
  ['domain_denied', 403],
  ['address_denied', 403],
  ['body_inspection', 403],
  ['credential_expired', 403],
  ['service_not_found', 404],
  ['body_too_large', 413],
  ['rate_limited', 429],
  ['upstream_unreachable', 502],
  ['upstream_encoding_unsupported', 502],
  ['upstream_timeout', 504],
  ['shutting_down', 503],
]

describe('refusal vocabulary', () => {
  it.each(CONTRACT)('%s has status %i and a title', (code, status) => {
    expect(REFUSAL_STATUS[code]).toBe(status)
    expect(REFUSAL_TITLE[code].length).toBeGreaterThan(3)
    expect(isRefusalCode(code)).toBe(true)
  })

  it('adds only headers_too_large (431), request_timeout (408), host_denied and origin_denied (403), not_found (404), method_not_allowed (405), ledger_unavailable, credential_unavailable, rate_limit_unavailable and sealed (503) beyond the contract table', () => {
    const extra = Object.keys(REFUSAL_STATUS).filter((c) => !CONTRACT.some(([k]) => k === c))
    expect(extra.sort()).toEqual([
      'credential_unavailable',
      'headers_too_large',
      'host_denied',
      'ledger_unavailable',
      'method_not_allowed',
      'not_found',
      'origin_denied',
      'rate_limit_unavailable',
      'request_timeout',
      'sealed',
    ])
    expect(REFUSAL_STATUS.request_timeout).toBe(408)
    expect(REFUSAL_STATUS.headers_too_large).toBe(431)
    expect(REFUSAL_STATUS.ledger_unavailable).toBe(503)
    expect(REFUSAL_STATUS.credential_unavailable).toBe(503)
    expect(REFUSAL_STATUS.sealed).toBe(503)
    expect(REFUSAL_STATUS.rate_limit_unavailable).toBe(503)
    expect(REFUSAL_STATUS.host_denied).toBe(403)
    expect(REFUSAL_STATUS.origin_denied).toBe(403)
    expect(REFUSAL_STATUS.not_found).toBe(404)
    expect(REFUSAL_STATUS.method_not_allowed).toBe(405)
  })

  it.each(['toString', '__proto__', 'nope', '', 42])('isRefusalCode(%j) is false', (value) => {
    expect(isRefusalCode(value)).toBe(false)
  })
})

describe('rateLimited: retryAfter in whole seconds, never below 1', () => {
  const rows: [string, number, number, number][] = [
    ['a sub-millisecond wait still says 1 s (and 1 ms)', 0, 1, 1],
    ['1 ms rounds up to 1 s', 1, 1, 1],
    ['a fraction of a ms rounds up', 180.2, 1, 181],
    ['exactly 1 s', 1000, 1, 1000],
    ['1001 ms rounds up to 2 s (waiting 1 s would be refused again)', 1001, 2, 1001],
    ['59.5 s rounds up to 60 s', 59_500, 60, 59_500],
    ['a wait that is not a number says 1 s', Number.NaN, 1, 1000],
  ]
  it.each(rows)('%s', (_why, retryAfterMs, seconds, ms) => {
    expect(rateLimited('limited', retryAfterMs, '5/min')).toEqual({
      code: 'rate_limited',
      detail: 'limited',
      extra: { retryAfter: seconds, retryAfterMs: ms, limit: '5/min' },
    })
  })

  it('the document carries both; Retry-After-Ms is never longer than Retry-After says', () => {
    const doc = problemDocument(rateLimited('limited', 180, '5/s'))
    expect(doc).toMatchObject({ retryAfter: 1, retryAfterMs: 180, limit: '5/s' })
    expect(retryAfterMilliseconds(doc)).toBe(180)
    expect(retryAfterMilliseconds(problemDocument(refuse('sealed', 'x')))).toBeUndefined()
    const forged = problemDocument(refuse('rate_limited', 'x', { retryAfter: 1, retryAfterMs: 5000 }))
    expect(retryAfterMilliseconds(forged)).toBeUndefined()
    expect(retryAfterMilliseconds({ ...doc, retryAfterMs: 0.5 })).toBeUndefined()
  })

  it('leaves out limit when none is named', () => {
    expect(rateLimited('busy', 1000)).toEqual({
      code: 'rate_limited',
      detail: 'busy',
      extra: { retryAfter: 1, retryAfterMs: 1000 },
    })
  })
})

describe('problemOf: an adapter code gets the same document shape', () => {
  it('carries the SDK-facing error member, and extra members cannot override the standard ones', () => {
    const doc = problemOf(
      'response_too_large',
      502,
      'Response too large',
      'Too big',
      {
        limit: 10,
        code: 'forged',
        status: 200,
      },
      'req_2',
    )
    expect(doc).toEqual({
      type: 'urn:aegis:problem:response_too_large',
      title: 'Response too large',
      status: 502,
      detail: 'Too big',
      code: 'response_too_large',
      instance: 'req_2',
      limit: 10,
      error: {
        message: 'Too big (aegis: response_too_large)',
        type: 'response_too_large',
        code: 'response_too_large',
      },
    })
  })
})

describe('problemDocument', () => {
  it('builds an RFC 9457 document with code and extra members', () => {
    const doc = problemDocument(
      refuse('rate_limited', 'Agent rate limit 50/min exceeded', { retryAfter: 3 }),
      'req_1',
    )
    expect(doc).toEqual({
      type: 'urn:aegis:problem:rate_limited',
      title: 'Rate limit exceeded',
      status: 429,
      detail: 'Agent rate limit 50/min exceeded',
      code: 'rate_limited',
      instance: 'req_1',
      retryAfter: 3,
      error: {
        message: 'Agent rate limit 50/min exceeded (aegis: rate_limited)',
        type: 'rate_limited',
        code: 'rate_limited',
      },
    })
  })

  it('omits instance and extra when not given', () => {
    const doc = problemDocument(refuse('domain_denied', 'evil.com is not allowed'))
    expect(Object.keys(doc).sort()).toEqual(['code', 'detail', 'error', 'status', 'title', 'type'])
  })

  // One row per SDK family: what its error constructor reads from the body (see ProblemErrorMember).
  it.each([
    ['openai-node: "<status> <error.message>"', (d: ProblemDocument) => String(d.error.message)],
    ['@anthropic-ai/sdk: error.message', (d: ProblemDocument) => d.error.message],
    ['@octokit/request: the text of a charset=utf-8 body', (d: ProblemDocument) => JSON.stringify(d)],
  ])('%s carries both the detail and the code', (_, read) => {
    const doc = problemDocument(refuse('grant_denied', "Agent 'bot' is not granted 'gh'"))
    expect(read(doc)).toContain("Agent 'bot' is not granted 'gh'")
    expect(read(doc)).toContain('grant_denied')
  })

  it('extra members cannot override the error member', () => {
    const doc = problemDocument(refuse('policy_denied', 'no', { error: { message: 'all fine' } }))
    expect(doc.error).toEqual({
      message: 'no (aegis: policy_denied)',
      type: 'policy_denied',
      code: 'policy_denied',
    })
  })

  it('is sent as problem+json that says charset=utf-8', () => {
    expect(PROBLEM_CONTENT_TYPE).toBe('application/problem+json; charset=utf-8')
  })

  it('extra members cannot override the standard ones', () => {
    const doc = problemDocument(
      refuse('scope_denied', 'DELETE not in scopes', {
        status: 200,
        code: 'ok',
        type: 'x',
        allowed: ['read'],
      }),
    )
    expect(doc.status).toBe(403)
    expect(doc.code).toBe('scope_denied')
    expect(doc.type).toBe('urn:aegis:problem:scope_denied')
    expect(doc.allowed).toEqual(['read'])
  })

  it('serialises to JSON', () => {
    const json = JSON.stringify(problemDocument(refuse('bad_request', 'dot segment in path')))
    expect(JSON.parse(json)).toMatchObject({ status: 400, code: 'bad_request' })
  })
})

describe('Retry-After: every 429 and 503 refusal says when to try again', () => {
  const codes = Object.keys(REFUSAL_STATUS) as RefusalCode[]
  const retryable = codes.filter((c) => REFUSAL_STATUS[c] === 429 || REFUSAL_STATUS[c] === 503)

  it('covers the statuses that invite a retry', () => {
    expect(retryable.sort()).toEqual(
      [
        'credential_unavailable',
        'ledger_unavailable',
        'rate_limit_unavailable',
        'rate_limited',
        'sealed',
        'shutting_down',
      ].sort(),
    )
  })

  it.each(retryable)('%s without a retryAfter of its own gets one: whole seconds, at least 1', (code) => {
    const seconds = retryAfterSeconds(refuse(code, 'x'))
    expect(Number.isInteger(seconds) && (seconds ?? 0) >= 1).toBe(true)
    expect(problemDocument(refuse(code, 'x')).retryAfter).toBe(seconds)
  })

  it('rate_limit_unavailable waits about as long as the Redis reconnect backoff (2 s), not a minute', () => {
    expect(retryAfterSeconds(refuse('rate_limit_unavailable', 'x'))).toBe(2)
  })

  it("keeps a refusal's own usable retryAfter, rounded up; ignores one that is not", () => {
    expect(retryAfterSeconds(rateLimited('x', 12_400))).toBe(13)
    expect(retryAfterSeconds(refuse('sealed', 'x', { retryAfter: 2.5 }))).toBe(3)
    expect(retryAfterSeconds(refuse('sealed', 'x', { retryAfter: 0 }))).toBe(30)
    expect(retryAfterSeconds(refuse('sealed', 'x', { retryAfter: '1' }))).toBe(30)
  })

  it.each(codes.filter((c) => !retryable.includes(c)))('%s has none', (code) => {
    expect(retryAfterSeconds(refuse(code, 'x'))).toBeUndefined()
    expect(problemDocument(refuse(code, 'x'))).not.toHaveProperty('retryAfter')
  })
})

describe('shouldRetry: whether an SDK should retry a refusal by itself (X-Should-Retry)', () => {
  const codes = Object.keys(REFUSAL_STATUS) as RefusalCode[]

  it('true only where the same request may pass within seconds without anyone acting', () => {
    expect(codes.filter((c) => shouldRetry(c) === true).sort()).toEqual(
      ['ledger_unavailable', 'rate_limit_unavailable', 'rate_limited', 'shutting_down'].sort(),
    )
  })

  it('no advice for upstream failures and a slow upload: the client treats them as from the API', () => {
    expect(codes.filter((c) => shouldRetry(c) === undefined).sort()).toEqual(
      ['request_timeout', 'upstream_timeout', 'upstream_unreachable'].sort(),
    )
  })

  it('false for every 4xx other than 408/429, and for the 5xx only an operator or the upstream can change', () => {
    for (const code of codes) {
      const status = REFUSAL_STATUS[code]
      if (status >= 400 && status < 500 && status !== 408 && status !== 429)
        expect(shouldRetry(code)).toBe(false)
    }
    expect(shouldRetry('sealed')).toBe(false)
    expect(shouldRetry('credential_unavailable')).toBe(false)
    expect(shouldRetry('upstream_encoding_unsupported')).toBe(false)
  })

  it('no advice for a code outside the vocabulary', () => {
    expect(shouldRetry('constructor' as RefusalCode)).toBeUndefined()
  })
})

describe('the refusal code table in the root README', () => {
  it('lists every code with its status', async () => {
    const { readFileSync } = await import('node:fs')
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
    const table = readme.slice(readme.indexOf('## Refusal codes'))
    for (const [code, status] of Object.entries(REFUSAL_STATUS)) {
      const row = table.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${code}\``))
      expect(row, code).toBeDefined()
      expect(row, code).toContain(String(status))
    }
  })
})
