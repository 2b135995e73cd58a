import { createHash, randomBytes } from 'node:crypto'
import type { Vault } from '@aegis/vault'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { AgentRecord, CredentialSource } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

const token = () => `aegis_${randomBytes(32).toString('base64url')}`
const hash = (t: string) => createHash('sha256').update(t).digest()

/** Agents held in memory beside the real vault, as the store would hand them to the gate. */
function agentSource(vault: Vault, agents: AgentRecord[], version: { n: number }): CredentialSource {
  return {
    loadAll: () => vault.loadAll(),
    loadAgents: () => agents,
    changeToken: () => `${vault.changeToken()}/${version.n}`,
  }
}

describe('agent identity and grants', () => {
  const alice = token()
  const bob = token()
  const agents: AgentRecord[] = []
  const version = { n: 0 }
  let h: Harness

  beforeAll(async () => {
    h = await startHarness({
      gate: { requireAgentAuth: true, limits: { agentMaxInFlight: 1 } },
      source: (vault) => agentSource(vault, agents, version),
    })
    h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-test-secret-1' })
    h.add({ name: 'github-bot', service: 'github', secret: 'ghp-test-secret-1' })
    const slackId = h.vault.get('slack-bot')?.id ?? ''
    agents.push(
      {
        id: 'a1',
        name: 'alice',
        prefix: alice.slice(0, 12),
        tokenHash: hash(alice),
        rateLimit: '3/min',
        maxInFlight: null,
        grants: [slackId],
      },
      {
        id: 'b1',
        name: 'bob',
        prefix: bob.slice(0, 12),
        tokenHash: hash(bob),
        rateLimit: null,
        maxInFlight: null,
        grants: [],
      },
    )
    version.n++
    h.gate.refresh()
  })
  afterAll(() => h.close())

  it('refuses a request without a token when agent auth is required', async () => {
    const reply = await send(h.port, '/slack/x')
    expect(reply.status).toBe(401)
    expect(reply.headers['x-aegis-block']).toBe('agent_auth_required')
  })

  it('refuses an unknown or malformed token', async () => {
    for (const bad of [token(), 'aegis_short', `${alice}x`, alice.toUpperCase(), `${alice.slice(0, -1)}!`]) {
      const reply = await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': bad } })
      expect(reply.status, bad.slice(0, 10)).toBe(401)
      expect(reply.headers['x-aegis-block']).toBe('agent_auth_invalid')
    }
  })

  it('refuses a repeated agent header', async () => {
    const reply = await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': [alice, bob] } })
    expect(reply.headers['x-aegis-block']).toBe('agent_auth_invalid')
  })

  it('forwards for a granted agent, records it, and never forwards the token', async () => {
    const reply = await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': alice } })
    expect(reply.status).toBe(200)
    const got = h.upstream.received.at(-1)
    expect(got?.headers['x-aegis-agent']).toBeUndefined()
    expect(JSON.stringify(got?.headers)).not.toContain(alice)
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 10 }).find((e) => e.requestId === reply.headers['x-request-id'])
    expect(entry?.agent).toBe('alice')
    expect(JSON.stringify(h.ledger.query({ limit: 100 }))).not.toContain(alice)
  })

  it('refuses a request that carries an agent token, its own in any encoding or any other', async () => {
    for (const body of [
      `{"note":"${Buffer.from(alice).toString('base64')}"}`,
      `{"note":"${Buffer.from(alice).toString('hex')}"}`,
      `{"note":"${bob}"}`,
    ]) {
      const reply = await send(h.port, '/slack/x', {
        method: 'POST',
        body,
        headers: { 'X-Aegis-Agent': alice },
      })
      expect(reply.status).toBe(403)
      expect(reply.headers['x-aegis-block']).toBe('body_inspection')
      expect(reply.text).not.toContain(bob)
    }
  })

  it('refuses a credential the agent is not granted', async () => {
    const reply = await send(h.port, '/github/x', { headers: { 'X-Aegis-Agent': alice } })
    expect(reply.status).toBe(403)
    expect(reply.headers['x-aegis-block']).toBe('grant_denied')
    const none = await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': bob } })
    expect(none.headers['x-aegis-block']).toBe('grant_denied')
  })

  it('applies the agent rate limit, and refusals do not spend it', async () => {
    // alice: 3/min. One was spent above; refused requests below must not count.
    await send(h.port, '/github/x', { headers: { 'X-Aegis-Agent': alice } })
    await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': alice, 'X-Target-Host': 'evil.test' } })
    expect((await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': alice } })).status).toBe(200)
    expect((await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': alice } })).status).toBe(200)
    const limited = await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': alice } })
    expect(limited.status).toBe(429)
    // 3/min: the next one fits in about 20 s. Retry-After says it in whole seconds, Retry-After-Ms
    // (what openai and anthropic's SDKs read first) to the millisecond, and never longer.
    const seconds = Number(limited.headers['retry-after'])
    const ms = Number(limited.headers['retry-after-ms'])
    expect(seconds).toBeGreaterThan(0)
    expect(Number.isInteger(ms)).toBe(true)
    expect(ms).toBeGreaterThan(15_000)
    expect(ms).toBeLessThanOrEqual(seconds * 1000)
    expect(ms).toBeGreaterThan((seconds - 1) * 1000)
    expect(limited.json()).toMatchObject({ retryAfter: seconds, retryAfterMs: ms })
  })

  it('caps requests in flight per agent', async () => {
    agents[1] = { ...(agents[1] as AgentRecord), grants: [h.vault.get('slack-bot')?.id ?? ''] }
    version.n++
    h.gate.refresh()
    const slow = send(h.port, '/slack/slow/300', { headers: { 'X-Aegis-Agent': bob } })
    await new Promise((r) => setTimeout(r, 80))
    const second = await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': bob } })
    expect(second.status).toBe(429)
    expect(second.headers['retry-after']).toBe('1')
    expect(second.headers['retry-after-ms']).toBe('1000')
    expect(second.json().detail).toBe('Agent "bob" already has 1 request in flight')
    expect((await slow).status).toBe(200)
    // The slot is given back when the first completes.
    expect((await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': bob } })).status).toBe(200)
  })

  it('gives the slot back when the agent hangs up before the answer arrives', async () => {
    const { request } = await import('node:http')
    for (let i = 0; i < 3; i++) {
      const req = request({
        host: '127.0.0.1',
        port: h.port,
        path: '/slack/slow/200',
        headers: { 'X-Aegis-Agent': bob },
        agent: false,
      })
      req.on('error', () => undefined)
      req.end()
      await new Promise((r) => setTimeout(r, 50))
      req.destroy() // gone while the upstream is still thinking
    }
    await new Promise((r) => setTimeout(r, 400))
    expect((await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': bob } })).status).toBe(200)
    // and each abandoned request's entry is completed as failed, client_closed: its upstream request
    // was aborted (no status), and its slot came back at once (none of the three was refused)
    await h.ledger.flush()
    const rows = h.ledger.query({ limit: 50 }).filter((e) => e.path === '/slow/200')
    expect(rows).toHaveLength(3)
    for (const row of rows)
      expect(row).toMatchObject({ decision: 'failed', code: 'client_closed', status: null, bytesOut: 0 })
    expect(h.upstream.cutOff.filter((url) => url === '/slow/200')).toHaveLength(3)
  })

  it('gives the slot back when a keep-alive connection is reset with a request in flight', async () => {
    // What a load generator does when it stops: a used connection, dropped mid-request.
    const { connect } = await import('node:net')
    const socket = connect(h.port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    let answer = ''
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1')
    })
    socket.write(`GET /slack/first HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aegis-Agent: ${bob}\r\n\r\n`)
    await vi.waitFor(() => expect(answer).toContain('"url":"/first"'))
    socket.write(`GET /slack/slow/150 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aegis-Agent: ${bob}\r\n\r\n`)
    await new Promise((r) => setTimeout(r, 50))
    socket.resetAndDestroy()
    await new Promise((r) => setTimeout(r, 300))
    expect((await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': bob } })).status).toBe(200)
    await h.ledger.flush()
    const abandoned = h.ledger.query({ limit: 50 }).filter((e) => e.path === '/slow/150')
    expect(abandoned).toHaveLength(1)
    expect(abandoned[0]).toMatchObject({
      decision: 'failed',
      code: 'client_closed',
      status: null,
      bytesOut: 0,
    })
  })

  it('takes revocation and regeneration effect on the next snapshot', async () => {
    agents[1] = { ...(agents[1] as AgentRecord), grants: [] }
    version.n++
    h.gate.refresh()
    expect(
      (await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': bob } })).headers['x-aegis-block'],
    ).toBe('grant_denied')
    const renewed = token()
    agents[0] = { ...(agents[0] as AgentRecord), tokenHash: hash(renewed) }
    version.n++
    h.gate.refresh()
    expect((await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': alice } })).status).toBe(401)
  })
})

describe('agent tokens without required auth', () => {
  const carol = token()
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({
      source: (vault) =>
        agentSource(
          vault,
          [
            {
              id: 'c1',
              name: 'carol',
              prefix: carol.slice(0, 12),
              tokenHash: hash(carol),
              rateLimit: null,
              maxInFlight: null,
              grants: [],
            },
          ],
          { n: 1 },
        ),
    })
    h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-test-secret-1' })
  })
  afterAll(() => h.close())

  it('lets anonymous requests through but still verifies a token that is sent', async () => {
    expect((await send(h.port, '/slack/x')).status).toBe(200)
    expect((await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': token() } })).status).toBe(401)
    // A valid token is used for identity and grants.
    expect(
      (await send(h.port, '/slack/x', { headers: { 'X-Aegis-Agent': carol } })).headers['x-aegis-block'],
    ).toBe('grant_denied')
  })
})

describe('a request abandoned while a stage still decides it', () => {
  const carol = token()
  let h: Harness
  let release: () => void = () => undefined
  const held = new Promise<void>((resolve) => {
    release = resolve
  })

  beforeAll(async () => {
    h = await startHarness({
      gate: {
        requireAgentAuth: true,
        limits: { agentMaxInFlight: 1 },
        // An embedder's stage that takes its time (a remote approval, say): runs after the slot is taken.
        stages: [(ctx) => (ctx.path.startsWith('/held') ? held.then(() => undefined) : undefined)],
      },
      source: (vault) => agentSource(vault, agents, version),
    })
    h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-test-secret-2' })
    agents.push({
      id: 'c1',
      name: 'carol',
      prefix: carol.slice(0, 12),
      tokenHash: hash(carol),
      rateLimit: null,
      maxInFlight: null,
      grants: [h.vault.get('slack-bot')?.id ?? ''],
    })
    version.n++
    h.gate.refresh()
  })
  afterAll(() => {
    release()
    return h.close()
  })
  const agents: AgentRecord[] = []
  const version = { n: 0 }

  it('gives its slot back at once, and is never forwarded once the stage lets it through', async () => {
    const { request } = await import('node:http')
    const req = request({
      host: '127.0.0.1',
      port: h.port,
      path: '/slack/held/1',
      headers: { 'X-Aegis-Agent': carol },
      agent: false,
    })
    req.on('error', () => undefined)
    req.end()
    await new Promise((r) => setTimeout(r, 100))
    req.destroy() // gone while the stage is still deciding
    await new Promise((r) => setTimeout(r, 100))
    // The stage still holds the first request; its slot must not.
    expect((await send(h.port, '/slack/next', { headers: { 'X-Aegis-Agent': carol } })).status).toBe(200)
    release()
    await vi.waitFor(async () => {
      await h.ledger.flush()
      expect(h.ledger.query({ limit: 20 }).find((e) => e.path === '/held/1')).toMatchObject({
        decision: 'failed',
        code: 'client_closed',
      })
    })
    expect(h.upstream.received.map((r) => r.url)).not.toContain('/held/1')
  })
})
