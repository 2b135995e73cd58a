import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, sendRaw } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'
import { memoryLogger } from './fixtures/log.js'

/**
 * Issue 11, items 7 and 8: whatever stage refused a request, nothing the agent put in it (path,
 * service segment, target host, a detail quoting them) brings a token or a key into the ledger, the
 * log or the problem document; and a refused destination is still on record.
 */

/** A vault secret shaped like a hex API key: lower case, so it can be a service segment too. */
const VAULT = 'vk0123456789abcdefvault9876'
const fill = (text: string, n: number) => text.repeat(Math.ceil(n / text.length)).slice(0, n)
// Fake keys in well-known formats, assembled so no key-shaped literal sits in the source.
const GHP = ['gh', 'p_', fill('fake0key', 36)].join('')
const OPENAI = ['sk', '-proj-', fill('FAKE-fake_0000', 48)].join('')
const AKIA = ['AK', 'IA', 'FAKEEXAMPLE00000'].join('')
const XOXB = ['xo', 'xb-', '000000000000-000000000000-', fill('FAKEfake', 24)].join('')

const percentAll = (s: string) =>
  [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
const percentOne = (s: string) => `%${s.charCodeAt(0).toString(16)}${s.slice(1)}`

interface Tokens {
  caller: string
  other: string
}

/** What goes into the request, and the value that must never come out (the raw secret). */
const SECRETS: Array<{
  name: string
  value: (t: Tokens) => string
  sent: (t: Tokens) => string
  callerOnly?: true
}> = [
  { name: "the caller's agent token", value: (t) => t.caller, sent: (t) => t.caller },
  {
    name: "the caller's token, base64url",
    value: (t) => t.caller,
    sent: (t) => Buffer.from(t.caller).toString('base64url'),
    callerOnly: true,
  },
  {
    name: "the caller's token, one char percent-encoded",
    value: (t) => t.caller,
    sent: (t) => percentOne(t.caller),
  },
  {
    name: "the caller's token without its prefix",
    value: (t) => t.caller.slice(6),
    sent: (t) => t.caller.slice(6),
    callerOnly: true,
  },
  { name: "another agent's token", value: (t) => t.other, sent: (t) => t.other },
  { name: 'a vault secret', value: () => VAULT, sent: () => VAULT },
  { name: 'a vault secret, percent-encoded', value: () => VAULT, sent: () => percentAll(VAULT) },
  { name: 'a vault secret, one char percent-encoded', value: () => VAULT, sent: () => percentOne(VAULT) },
  { name: 'a vault secret, base64', value: () => VAULT, sent: () => Buffer.from(VAULT).toString('base64') },
  { name: 'a ghp_ key', value: () => GHP, sent: () => GHP },
  { name: 'a ghp_ key, percent-encoded', value: () => GHP, sent: () => percentOne(GHP) },
  { name: 'an sk- key', value: () => OPENAI, sent: () => OPENAI },
  { name: 'an AKIA key', value: () => AKIA, sent: () => AKIA },
  { name: 'an xoxb key', value: () => XOXB, sent: () => XOXB },
]

interface Kind {
  code: string
  /** Which agent calls (its token is "the caller's"); the other one is "another agent". */
  as: 'alice' | 'limited' | 'bob' | 'stranger'
  request(
    secret: string,
    port: number,
  ): { path: string; method?: string; headers?: Record<string, string>; body?: string }
}

const KINDS: Record<string, Kind> = {
  'route bad_request': { code: 'bad_request', as: 'alice', request: (s) => ({ path: `/slack/%2e%2e/${s}` }) },
  'service_not_found, in the path': {
    code: 'service_not_found',
    as: 'alice',
    request: (s) => ({ path: `/nosuch/${s}` }),
  },
  'the service segment itself': { code: 'any', as: 'alice', request: (s) => ({ path: `/${s}/x` }) },
  agent_auth_invalid: {
    code: 'agent_auth_invalid',
    as: 'stranger',
    request: (s) => ({ path: `/slack/${s}` }),
  },
  grant_denied: { code: 'grant_denied', as: 'bob', request: (s) => ({ path: `/slack/${s}` }) },
  'domain_denied, in the path': {
    code: 'domain_denied',
    as: 'alice',
    request: (s) => ({ path: `/slack/${s}`, headers: { 'X-Target-Host': 'evil.test' } }),
  },
  'domain_denied, in the target host': {
    code: 'any',
    as: 'alice',
    request: (s) => ({ path: '/slack/x', headers: { 'X-Target-Host': `${s}.evil.test` } }),
  },
  policy_denied: { code: 'policy_denied', as: 'alice', request: (s) => ({ path: `/other/${s}` }) },
  body_too_large: {
    code: 'body_too_large',
    as: 'alice',
    request: (s) => ({ path: `/slack/${s}`, method: 'POST', body: 'x'.repeat(2048) }),
  },
  rate_limited: { code: 'rate_limited', as: 'limited', request: (s) => ({ path: `/slack/${s}` }) },
  address_denied: { code: 'address_denied', as: 'alice', request: (s) => ({ path: `/private/${s}` }) },
}

describe('nothing the agent sent brings a secret into the ledger, the log or the problem', () => {
  const log = memoryLogger()
  const dir = mkdtempSync(join(tmpdir(), 'aegis-stored-'))
  let h: Harness
  const tokens: Record<string, string> = {}

  beforeAll(async () => {
    // alice may use slack and private, not other: `/other/…` is her policy refusal.
    writeFileSync(join(dir, 'alice.yaml'), 'agent: alice\nrules:\n  - service: slack\n  - service: private\n')
    h = await startHarness({
      gate: {
        logger: log.logger,
        limits: { maxBodySize: 1024 },
        policies: { dir, mode: 'enforce', defaultPolicy: 'allow' },
        upstream: { lookup: async () => [{ address: '10.0.0.1', family: 4 }] },
      },
    })
    h.add({ name: 'slack-bot', service: 'slack', secret: VAULT })
    h.add({
      name: 'private',
      service: 'private',
      secret: 'private-secret-000',
      domains: ['priv.example.test'],
    })
    h.add({ name: 'other', service: 'other', secret: 'other-secret-00000' })
    tokens.alice = h.vault.addAgent({ name: 'alice' }).token
    tokens.bob = h.vault.addAgent({ name: 'bob' }).token
    tokens.limited = h.vault.addAgent({ name: 'limited', rateLimit: '1/min' }).token
    tokens.stranger = `aegis_${fill('Str4ngerTok3n_', 43)}`
    for (const agent of ['alice', 'limited']) {
      h.vault.grant(agent, 'slack-bot')
      h.vault.grant(agent, 'private')
      h.vault.grant(agent, 'other')
    }
    h.gate.refresh()
    // Spend the limited agent's one request a minute.
    expect(
      (await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': tokens.limited ?? '' } })).status,
    ).toBe(200)
  })
  afterAll(async () => {
    await h.close()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const [kindName, kind] of Object.entries(KINDS)) {
    for (const secret of SECRETS) {
      // An unknown caller's token is not a credential: its encodings mean nothing.
      if (secret.callerOnly && kind.as === 'stranger') continue
      it(`${kindName} × ${secret.name}`, async () => {
        const caller = tokens[kind.as] ?? ''
        const t: Tokens = { caller, other: kind.as === 'alice' ? (tokens.bob ?? '') : (tokens.alice ?? '') }
        const value = secret.value(t)
        const sent = secret.sent(t)
        const r = kind.request(sent, h.port)
        const logStart = log.lines.length
        const reply = await send(h.port, r.path, {
          method: r.method ?? 'GET',
          headers: { 'X-Aegis-Agent': caller, ...r.headers },
          body: r.body,
        })
        expect(reply.status, reply.text).toBeGreaterThanOrEqual(400)
        if (kind.code !== 'any') expect(reply.headers['x-aegis-block']).toBe(kind.code)
        await h.ledger.flush()
        const row = h.ledger.query({ limit: 5 }).find((e) => e.requestId === reply.headers['x-request-id'])
        expect(row).toBeDefined()
        const logged = log.lines.slice(logStart).join('')
        expect(logged).toContain(String(reply.headers['x-request-id']))
        for (const [where, text] of [
          ['ledger', JSON.stringify(row)],
          ['log', logged],
          ['problem', reply.text],
        ] as const) {
          expect(text, where).not.toContain(value)
          expect(text, where).not.toContain(sent)
        }
      })
    }
  }

  it('a parser-level 400 (onClientError) stores no token or key from the request line', async () => {
    for (const secret of [tokens.alice ?? '', VAULT, GHP, AKIA]) {
      const before = log.lines.length
      const answer = await sendRaw(
        h.port,
        `GET /slack/${secret} HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n`,
      )
      expect(answer).toMatch(/^HTTP\/1\.1 400/)
      await new Promise((r) => setTimeout(r, 50))
      await h.ledger.flush()
      const rows = JSON.stringify(h.ledger.query({ limit: 3 }))
      expect(rows).toContain('bad_request')
      expect(rows).not.toContain(secret)
      expect(log.lines.slice(before).join('')).not.toContain(secret)
    }
  })
})

describe('a secret in the target host never reaches DNS', () => {
  let calls = 0
  let h: Harness
  let alice: string
  beforeAll(async () => {
    h = await startHarness({
      gate: {
        upstream: {
          lookup: async () => {
            calls++
            return [{ address: '93.184.216.34', family: 4 }]
          },
        },
      },
    })
    h.add({ name: 'wild', service: 'wild', secret: VAULT, domains: ['*.example.test'] })
    alice = h.vault.addAgent({ name: 'alice' }).token
    h.vault.grant('alice', 'wild')
    h.gate.refresh()
  })
  afterAll(() => h.close())

  for (const [name, label] of [
    ['a vault secret', VAULT],
    ['a vault secret, hex', Buffer.from(VAULT).toString('hex')],
    ['an AKIA key', AKIA],
  ] as const) {
    it(`refuses ${name} as a label of a wildcard-allowed host, without a lookup`, async () => {
      const before = calls
      const reply = await send(h.port, '/wild/x', {
        headers: { 'X-Aegis-Agent': alice, 'X-Target-Host': `${label}.example.test` },
      })
      expect(reply.headers['x-aegis-block']).toBe('body_inspection')
      expect(calls).toBe(before)
      expect(reply.text).not.toContain(label)
    })
  }
})

describe('a refused destination is on record', () => {
  let h: Harness
  let alice: string
  beforeAll(async () => {
    h = await startHarness({
      gate: { upstream: { lookup: async () => [{ address: '10.0.0.1', family: 4 }] } },
    })
    h.add({
      name: 'slack-bot',
      service: 'slack',
      secret: VAULT,
      domains: ['api.example.test', 'priv.example.test'],
    })
    alice = h.vault.addAgent({ name: 'alice' }).token
    h.vault.grant('alice', 'slack-bot')
    h.gate.refresh()
  })
  afterAll(() => h.close())

  const cases: Array<{ header: string; code: string; recorded: string | RegExp }> = [
    { header: 'evil.test', code: 'domain_denied', recorded: 'evil.test' },
    { header: 'EVIL.test.', code: 'domain_denied', recorded: 'evil.test' },
    { header: 'evil.test:8443', code: 'bad_request', recorded: 'evil.test:8443' },
    { header: 'api.example.test:8443', code: 'bad_request', recorded: 'api.example.test:8443' },
    { header: 'priv.example.test', code: 'address_denied', recorded: 'priv.example.test' },
    { header: `${VAULT}.evil.test`, code: 'domain_denied', recorded: /^\[REDACTED\]\.evil\.test$/ },
    { header: `evil.test/${'a'.repeat(400)}`, code: 'bad_request', recorded: /^evil\.test\/a{240,}…$/ },
  ]
  for (const c of cases) {
    it(`records ${c.code} for X-Target-Host ${c.header.slice(0, 40)}`, async () => {
      const reply = await send(h.port, '/slack/x', {
        headers: { 'X-Aegis-Agent': alice, 'X-Target-Host': c.header },
      })
      expect(reply.headers['x-aegis-block']).toBe(c.code)
      await h.ledger.flush()
      const row = h.ledger.query({ limit: 5 }).find((e) => e.requestId === reply.headers['x-request-id'])
      if (typeof c.recorded === 'string') expect(row?.targetHost).toBe(c.recorded)
      else expect(row?.targetHost).toMatch(c.recorded)
      expect((row?.targetHost ?? '').length).toBeLessThanOrEqual(256)
    })
  }
})
