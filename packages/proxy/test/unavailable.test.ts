import { PROBLEM_CONTENT_TYPE } from '@aegis/guard'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CORRUPTIONS, corruptRow, damageAgentRate } from '../../vault/test/fixtures/corrupt-rows.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'
import { memoryLogger } from './fixtures/log.js'

const GOOD = 'healthy-secret-value-1111'
const brokenSecret = (i: number) => `broken-secret-value-${i}-2222`
const service = (i: number) => `bad-${i}`

/**
 * One vault with a healthy credential and one row per way a row gets damaged on disk, corrupted
 * with direct SQLite writes before the gate starts. The gate must start, serve the healthy
 * service, and refuse each damaged one with its own code, a ledger row and a log line naming it.
 */
let h: Harness
const log = memoryLogger()
beforeAll(async () => {
  h = await startHarness({
    gate: { logger: log.logger },
    prepare: (vault) => {
      vault.add({ name: 'good', service: 'good', secret: GOOD, domains: ['api.example.test'] })
      for (const i of CORRUPTIONS.keys()) {
        vault.add({
          name: `bad-${i}`,
          service: service(i),
          secret: brokenSecret(i),
          domains: ['api.example.test'],
          rateLimit: '100/min',
        })
      }
      for (const [i, corruption] of CORRUPTIONS.entries()) {
        corruptRow(vault.file, corruption, `bad-${i}`, 'good')
      }
      // Seals or secret ciphertexts changed outside Aegis change the set of rows (the whole vault is
      // refused): accepted as they are now (vault reseal), each damaged row is still refused on its own.
      vault.reseal()
    },
  })
})
afterAll(() => h.close())

describe('a damaged credential row', () => {
  it('does not stop the gate from starting; the healthy service is served', async () => {
    const reply = await send(h.port, '/good/x')
    expect(reply.status).toBe(200)
    expect(h.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${GOOD}`)
  })

  it.each(CORRUPTIONS.map((c, i) => [c.label, i] as const))(
    '%s: its service is refused with credential_unavailable (503) and a ledger row',
    async (_label, i) => {
      const before = h.upstream.received.length
      const reply = await send(h.port, `/${service(i)}/x`)
      expect(reply.status).toBe(503)
      expect(reply.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE)
      expect(reply.headers['x-aegis-block']).toBe('credential_unavailable')
      expect(reply.headers['retry-after']).toBe('30')
      const problem = reply.json()
      expect(problem).toMatchObject({
        status: 503,
        code: 'credential_unavailable',
        type: 'urn:aegis:problem:credential_unavailable',
        title: 'Credential unavailable',
      })
      expect(reply.text).not.toContain(brokenSecret(i))
      expect(h.upstream.received.length).toBe(before)

      await h.ledger.flush()
      const entry = h.ledger.query({ limit: 200 }).find((e) => e.requestId === problem.instance)
      expect(entry).toMatchObject({
        service: service(i),
        decision: 'blocked',
        code: 'credential_unavailable',
        status: 503,
      })
    },
  )

  it('is logged once per load, naming the row and why, never its secret', () => {
    const errors = log.entries().filter((l) => /^credential unavailable/.test(String(l.msg)))
    expect(errors.map((l) => l.credential).sort()).toEqual(CORRUPTIONS.map((_, i) => `bad-${i}`).sort())
    for (const [i, corruption] of CORRUPTIONS.entries()) {
      const line = errors.find((l) => l.credential === `bad-${i}`)
      expect(line).toMatchObject({ level: 50, service: service(i), credentialId: expect.any(String) })
      expect(String(line?.reason)).toMatch(corruption.reason)
    }
    const text = log.text()
    for (const i of CORRUPTIONS.keys()) expect(text).not.toContain(brokenSecret(i))
    expect(text).not.toContain(GOOD)
  })

  it('a readable secret of a row with damaged settings is still inspected for', async () => {
    // A row whose settings are damaged but whose secret decrypts stays in the matcher: sending that
    // secret through the healthy service is refused as it would have been before the damage.
    for (const [i, corruption] of CORRUPTIONS.entries()) {
      const reply = await send(h.port, `/good/echo?q=${brokenSecret(i)}`)
      if (corruption.secretReadable) {
        expect(reply.status, corruption.label).toBe(403)
        expect(reply.headers['x-aegis-block']).toBe('body_inspection')
      } else {
        // Nothing to look for: the secret cannot be decrypted, so the gate never knew it.
        expect(reply.status, corruption.label).toBe(200)
      }
    }
  })

  it('is served again once repaired (rotate), without a restart', async () => {
    h.vault.rotate('bad-0', 'replacement-secret-3333')
    h.gate.refresh()
    const reply = await send(h.port, `/${service(0)}/x`)
    expect(reply.status).toBe(200)
    expect(h.upstream.received.at(-1)?.headers.authorization).toBe('Bearer replacement-secret-3333')
  })
})

describe('a damaged agent row', () => {
  it('does not stop the gate: the other agents are served, its token is refused, the log names it', async () => {
    const agentLog = memoryLogger()
    const tokens: Record<string, string> = {}
    const gate = await startHarness({
      gate: { logger: agentLog.logger, requireAgentAuth: true },
      prepare: (vault) => {
        vault.add({ name: 'svc', service: 'svc', secret: GOOD, domains: ['api.example.test'] })
        for (const name of ['good-bot', 'bad-bot']) {
          tokens[name] = vault.addAgent({ name }).token
          vault.grant(name, 'svc')
        }
        damageAgentRate(vault.file, 'bad-bot')
      },
    })
    try {
      const good = await send(gate.port, '/svc/get', {
        headers: { 'x-aegis-agent': tokens['good-bot'] ?? '' },
      })
      expect(good.status).toBe(200)
      const bad = await send(gate.port, '/svc/get', { headers: { 'x-aegis-agent': tokens['bad-bot'] ?? '' } })
      expect(bad.status).toBe(401)
      expect(bad.headers['x-aegis-block']).toBe('agent_auth_invalid')
      const logged = agentLog
        .entries()
        .filter((l) => /^agent unavailable/.test(String(l.msg)))
        .map((l) => [l.agent, l.reason])
      expect(logged[0]?.[0]).toBe('bad-bot')
      expect(String(logged[0]?.[1])).toMatch(/^has a stored identity or limits that do not match their seal/)
      expect(agentLog.text()).not.toContain(tokens['bad-bot'])
    } finally {
      await gate.close()
    }
  })
})
