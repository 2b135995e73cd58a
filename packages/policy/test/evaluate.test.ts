import { describe, expect, it } from 'vitest'
import { EMPTY_POLICY_SET, evaluatePolicy } from '../src/index.js'
import { allowedIndex, policyOf, req } from './helpers.js'

const BOT_TEXT = `agent: research-bot
rules:
  - service: slack
    methods: [GET]
    paths:
      - /api/conversations.*
      - /api/users.*
    rate_limit: 100/hour
  - service: slack
    methods: [POST]
    paths: [/api/chat\\.postMessage]
    rate_limit: 10/min
  - service: github
    methods: [GET, POST]
    paths:
      - /repos/myorg/.*
  - service: notion
`
const BOT = policyOf(BOT_TEXT)

describe('evaluatePolicy: service, method and path', () => {
  it('allows a matching request with the rule that decided it and its rate', () => {
    const d = evaluatePolicy(BOT, req('GET', 'slack', '/api/conversations.list'))
    expect(d).toEqual({
      allowed: true,
      rule: { index: 0, file: 'bot.yaml', line: 3, service: 'slack' },
      rate: { key: BOT.rules[0]?.rateKey, rate: { count: 100, periodMs: 3_600_000, text: '100/hour' } },
      reason: 'allowed by bot.yaml:3 (rules[0])',
    })
  })

  it('gives every request a rule allows the same frozen decision, made once per policy and rule', () => {
    const first = evaluatePolicy(BOT, req('GET', 'slack', '/api/conversations.list'))
    const second = evaluatePolicy(BOT, req('GET', 'slack', '/api/users.info'))
    expect(second).toBe(first)
    if (!first.allowed) throw new Error('expected allowed')
    expect(Object.isFrozen(first) && Object.isFrozen(first.rule) && Object.isFrozen(first.rate)).toBe(true)
    expect(evaluatePolicy(BOT, req('POST', 'slack', '/api/chat.postMessage'))).not.toBe(first)
    // The same rule text in another file decides with that file's name.
    const other = policyOf(BOT_TEXT, 'other.yaml')
    expect(evaluatePolicy(other, req('GET', 'slack', '/api/users.info')).reason).toBe(
      'allowed by other.yaml:3 (rules[0])',
    )
  })

  it('refuses other methods, including lower-case spellings', () => {
    for (const method of ['POST', 'DELETE', 'get', 'Get', 'TRACE', '']) {
      const d = evaluatePolicy(BOT, req(method, 'slack', '/api/conversations.list'))
      expect(d.allowed, method).toBe(false)
    }
  })

  it('refuses other services and service look-alikes', () => {
    for (const service of ['slack2', 'Slack', 'slac', 'gitlab', '']) {
      expect(evaluatePolicy(BOT, req('GET', service, '/api/conversations.list')).allowed, service).toBe(false)
    }
  })

  it('refuses paths the gate would not forward as they are, whatever the rules say', () => {
    const open = policyOf('agent: a\nrules:\n  - service: slack\n    paths: [/api/.*]\n  - service: slack\n')
    const hostile = [
      '/api/conversations.list/../../admin',
      '/api/%2e%2e/admin',
      '/api/%c0%ae%c0%ae/admin',
      '/api/%EF%BC%8E%EF%BC%8E/admin',
      '/api/%E2%80%A5/admin',
      '/api/x%2Fadmin',
      '/api/x?token=sk-live-secret',
      'api/x',
      '/api/x#frag',
      `/api/${'a'.repeat(5000)}`,
    ]
    for (const path of hostile) {
      const d = evaluatePolicy(open, req('GET', 'slack', path))
      expect(d.allowed, path).toBe(false)
      expect(d.reason).not.toContain('sk-live-secret')
    }
    expect(evaluatePolicy(open, req('GET', 'slack', '/api/x?token=sk-live-secret')).reason).toBe(
      'GET slack /api/x is refused: the path is not in canonical form (the gate refuses it)',
    )
  })

  it('matches the whole path, never a substring', () => {
    const refused = [
      '/admin/api/conversations.list',
      '/api/chat.postMessage',
      '/api/admin.users.list',
      '//api/conversations.list',
      '/API/conversations.list',
    ]
    for (const path of refused)
      expect(evaluatePolicy(BOT, req('GET', 'slack', path)).allowed, path).toBe(false)
    expect(evaluatePolicy(BOT, req('POST', 'slack', '/api/chat.postMessage')).allowed).toBe(true)
    expect(evaluatePolicy(BOT, req('POST', 'slack', '/api/chat.postMessage/x')).allowed).toBe(false)
    expect(evaluatePolicy(BOT, req('POST', 'slack', '/api/chatXpostMessage')).allowed).toBe(false)
    expect(evaluatePolicy(BOT, req('GET', 'github', '/repos/myorg/app/pulls')).allowed).toBe(true)
    expect(evaluatePolicy(BOT, req('GET', 'github', '/repos/myorg')).allowed).toBe(false)
    expect(evaluatePolicy(BOT, req('GET', 'github', '/repos/myorgevil/app')).allowed).toBe(false)
  })

  it('a rule without methods and paths allows everything on its service', () => {
    for (const method of ['GET', 'DELETE', 'PATCH']) {
      expect(allowedIndex(evaluatePolicy(BOT, req(method, 'notion', '/v1/pages/abc')))).toBe(3)
    }
  })

  it('the first matching rule decides; its rate key is its own', () => {
    const policy = policyOf(`agent: a
rules:
  - service: s
    paths: [/x/special]
    rate_limit: 1/min
  - service: s
    rate_limit: 100/min
`)
    const special = evaluatePolicy(policy, req('GET', 's', '/x/special'))
    const other = evaluatePolicy(policy, req('GET', 's', '/x/other'))
    expect(allowedIndex(special)).toBe(0)
    expect(allowedIndex(other)).toBe(1)
    if (!special.allowed || !other.allowed) throw new Error('expected both allowed')
    expect(special.rate?.rate.text).toBe('1/min')
    expect(other.rate?.rate.text).toBe('100/min')
    expect(special.rate?.key).not.toBe(other.rate?.key)
  })

  it('a rule without rate_limit allows with rate null', () => {
    const d = evaluatePolicy(BOT, req('GET', 'github', '/repos/myorg/x'))
    expect(d).toMatchObject({ allowed: true, rate: null })
  })

  it('refusals say no rule allows METHOD service path, with code policy_denied', () => {
    const d = evaluatePolicy(BOT, req('DELETE', 'slack', '/api/conversations.list'))
    expect(d).toEqual({
      allowed: false,
      code: 'policy_denied',
      rule: null,
      reason: 'no rule in bot.yaml allows DELETE slack /api/conversations.list for agent research-bot',
    })
  })

  it('long hostile paths are cut in the reason and never match a pattern', () => {
    const path = `/api/conversations.${'a'.repeat(10_000)}`
    const d = evaluatePolicy(BOT, req('GET', 'slack', path))
    expect(d.allowed).toBe(false)
    expect(d.reason.length).toBeLessThan(400)
  })

  it('an empty rules list denies everything', () => {
    expect(evaluatePolicy(policyOf('agent: a\nrules: []\n'), req('GET', 's', '/')).allowed).toBe(false)
  })

  it('evaluation is pure: repeated evaluation gives the same decision', () => {
    const a = evaluatePolicy(BOT, req('GET', 'slack', '/api/users.list'))
    const b = evaluatePolicy(BOT, req('GET', 'slack', '/api/users.list'))
    expect(a).toEqual(b)
    expect(EMPTY_POLICY_SET.policies.size).toBe(0)
  })
})

function windowPolicy(start: string, end: string, timezone?: string) {
  const tz = timezone === undefined ? '' : `\n      timezone: "${timezone}"`
  return policyOf(`agent: a
rules:
  - service: s
    time_window:
      start: "${start}"
      end: "${end}"${tz}
`)
}

function openAt(policy: ReturnType<typeof windowPolicy>, iso: string): boolean {
  return evaluatePolicy(policy, req('GET', 's', '/x', iso)).allowed
}

describe('evaluatePolicy: time windows', () => {
  it('is [start, end) in UTC by default', () => {
    const p = windowPolicy('09:00', '18:00')
    expect(openAt(p, '2026-06-10T08:59:59Z')).toBe(false)
    expect(openAt(p, '2026-06-10T09:00:00Z')).toBe(true)
    expect(openAt(p, '2026-06-10T17:59:59Z')).toBe(true)
    expect(openAt(p, '2026-06-10T18:00:00Z')).toBe(false)
  })

  it('a closed window refuses naming the rule and the window', () => {
    const p = windowPolicy('09:00', '18:00')
    const d = evaluatePolicy(p, req('GET', 's', '/x', '2026-06-10T20:00:00Z'))
    expect(d).toEqual({
      allowed: false,
      code: 'policy_denied',
      rule: { index: 0, file: 'bot.yaml', line: 3, service: 's' },
      reason:
        'GET s /x is allowed by bot.yaml:3 (rules[0]) only between 09:00-18:00 UTC; the time window is closed now',
    })
  })

  it('a later rule whose window is open still allows', () => {
    const p = policyOf(`agent: a
rules:
  - service: s
    time_window: { start: "09:00", end: "17:00" }
  - service: s
    methods: [GET]
    time_window: { start: "17:00", end: "22:00" }
`)
    expect(allowedIndex(evaluatePolicy(p, req('GET', 's', '/x', '2026-06-10T10:00:00Z')))).toBe(0)
    expect(allowedIndex(evaluatePolicy(p, req('GET', 's', '/x', '2026-06-10T18:00:00Z')))).toBe(1)
    const closed = evaluatePolicy(p, req('POST', 's', '/x', '2026-06-10T18:00:00Z'))
    expect(closed).toMatchObject({ allowed: false, rule: { index: 0 } })
  })

  it('a window across midnight', () => {
    const p = windowPolicy('22:00', '06:00')
    expect(openAt(p, '2026-06-10T21:59:00Z')).toBe(false)
    expect(openAt(p, '2026-06-10T22:00:00Z')).toBe(true)
    expect(openAt(p, '2026-06-10T23:59:59Z')).toBe(true)
    expect(openAt(p, '2026-06-11T00:00:00Z')).toBe(true)
    expect(openAt(p, '2026-06-11T05:59:59Z')).toBe(true)
    expect(openAt(p, '2026-06-11T06:00:00Z')).toBe(false)
    expect(openAt(p, '2026-06-11T12:00:00Z')).toBe(false)
  })

  it('00:00-24:00 is the whole day', () => {
    const p = windowPolicy('00:00', '24:00')
    for (const t of ['00:00:00', '12:00:00', '23:59:59']) expect(openAt(p, `2026-06-10T${t}Z`)).toBe(true)
  })

  it('America/New_York follows DST (no fixed offset)', () => {
    const p = windowPolicy('09:00', '17:00', 'America/New_York')
    // winter, UTC-5
    expect(openAt(p, '2026-01-15T13:59:00Z')).toBe(false)
    expect(openAt(p, '2026-01-15T14:00:00Z')).toBe(true)
    expect(openAt(p, '2026-01-15T21:59:00Z')).toBe(true)
    expect(openAt(p, '2026-01-15T22:00:00Z')).toBe(false)
    // summer, UTC-4
    expect(openAt(p, '2026-07-15T12:59:00Z')).toBe(false)
    expect(openAt(p, '2026-07-15T13:00:00Z')).toBe(true)
    expect(openAt(p, '2026-07-15T21:00:00Z')).toBe(false)
  })

  it('US spring-forward (2026-03-08): a window inside the skipped hour never opens that day', () => {
    const p = windowPolicy('02:15', '02:45', 'America/New_York')
    const from = Date.parse('2026-03-08T05:00:00Z') // local midnight, EST
    const to = Date.parse('2026-03-09T04:00:00Z') // local midnight, EDT
    for (let t = from; t < to; t += 60_000) {
      expect(evaluatePolicy(p, { service: 's', method: 'GET', path: '/x', now: t }).allowed).toBe(false)
    }
    expect(openAt(p, '2026-03-09T06:30:00Z')).toBe(true) // next day 02:30 EDT
    const around = windowPolicy('01:00', '04:00', 'America/New_York')
    expect(openAt(around, '2026-03-08T06:59:00Z')).toBe(true) // 01:59 EST
    expect(openAt(around, '2026-03-08T07:00:00Z')).toBe(true) // 03:00 EDT
    expect(openAt(around, '2026-03-08T07:59:00Z')).toBe(true) // 03:59 EDT
    expect(openAt(around, '2026-03-08T08:00:00Z')).toBe(false) // 04:00 EDT: two real hours in all
  })

  it('US fall-back (2026-11-01): a window over the repeated hour is open in both occurrences', () => {
    const p = windowPolicy('01:00', '02:00', 'America/New_York')
    expect(openAt(p, '2026-11-01T04:59:00Z')).toBe(false) // 00:59 EDT
    expect(openAt(p, '2026-11-01T05:30:00Z')).toBe(true) // 01:30 EDT
    expect(openAt(p, '2026-11-01T06:30:00Z')).toBe(true) // 01:30 EST
    expect(openAt(p, '2026-11-01T07:00:00Z')).toBe(false) // 02:00 EST
  })

  it('Europe/London, Asia/Kolkata (+05:30)', () => {
    const london = windowPolicy('09:00', '17:00', 'Europe/London')
    expect(openAt(london, '2026-01-15T09:00:00Z')).toBe(true)
    expect(openAt(london, '2026-07-15T08:00:00Z')).toBe(true) // 09:00 BST
    expect(openAt(london, '2026-07-15T16:00:00Z')).toBe(false) // 17:00 BST
    const kolkata = windowPolicy('09:00', '18:00', 'Asia/Kolkata')
    expect(openAt(kolkata, '2026-07-01T03:29:00Z')).toBe(false)
    expect(openAt(kolkata, '2026-07-01T03:30:00Z')).toBe(true)
    expect(openAt(kolkata, '2026-07-01T12:29:00Z')).toBe(true)
    expect(openAt(kolkata, '2026-07-01T12:30:00Z')).toBe(false)
  })

  it('Australia/Lord_Howe (30-minute DST) and Pacific/Chatham (+12:45/+13:45)', () => {
    const lordHowe = windowPolicy('09:00', '10:00', 'Australia/Lord_Howe')
    expect(openAt(lordHowe, '2026-01-14T22:00:00Z')).toBe(true) // 09:00 +11
    expect(openAt(lordHowe, '2026-07-14T22:00:00Z')).toBe(false) // 08:30 +10:30
    expect(openAt(lordHowe, '2026-07-14T22:30:00Z')).toBe(true) // 09:00 +10:30
    const repeated = windowPolicy('01:30', '02:00', 'Australia/Lord_Howe')
    expect(openAt(repeated, '2026-04-04T14:30:00Z')).toBe(true) // 01:30 +11
    expect(openAt(repeated, '2026-04-04T15:00:00Z')).toBe(true) // 01:30 again, +10:30
    expect(openAt(repeated, '2026-04-04T15:30:00Z')).toBe(false)
    const chatham = windowPolicy('09:00', '09:30', 'Pacific/Chatham')
    expect(openAt(chatham, '2026-07-14T20:15:00Z')).toBe(true)
    expect(openAt(chatham, '2026-07-14T20:14:00Z')).toBe(false)
    expect(openAt(chatham, '2026-01-14T19:15:00Z')).toBe(true)
    expect(openAt(chatham, '2026-01-14T20:15:00Z')).toBe(false)
  })

  it('an invalid clock value is outside every window', () => {
    const p = windowPolicy('00:00', '24:00')
    expect(evaluatePolicy(p, { service: 's', method: 'GET', path: '/x', now: Number.NaN }).allowed).toBe(
      false,
    )
  })
})
