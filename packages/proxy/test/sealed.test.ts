import type { Vault } from '@aegis/vault'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CredentialSource, createPipeline } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

const SECRET = 'sealed-test-secret-value-9876'

/** The vault behind a switch: `isSealed()` is what a sealable source (SealableVault) reports. */
let sealedNow = true
function switchable(vault: Vault): CredentialSource {
  return {
    loadCredentials: () => (sealedNow ? { credentials: [], unavailable: [] } : vault.loadCredentials()),
    loadAll: () => (sealedNow ? [] : vault.loadAll()),
    loadAgents: () => (sealedNow ? [] : vault.loadAgents()),
    changeToken: () => `${sealedNow}:${vault.changeToken()}`,
    isSealed: () => sealedNow,
  }
}

let h: Harness
beforeAll(async () => {
  h = await startHarness({
    source: switchable,
    prepare: (vault) =>
      vault.add({ name: 'svc', service: 'svc', secret: SECRET, domains: ['api.example.test'] }),
  })
})
afterAll(() => h.close())

async function health() {
  const reply = await send(h.port, '/_aegis/health')
  return { status: reply.status, body: reply.json() }
}

describe('a gate whose credential source is sealed', () => {
  it('starts, and its health says sealed (503, so a load balancer routes elsewhere)', async () => {
    expect(await health()).toMatchObject({
      status: 503,
      body: { status: 'sealed', sealed: true, credentials: 0 },
    })
    expect((await send(h.port, '/_aegis/health')).headers['retry-after']).toBe('30')
  })

  it('refuses a proxied request with 503 sealed, records it, and reaches no upstream', async () => {
    const before = h.upstream.received.length
    const reply = await send(h.port, '/svc/repos')
    expect(reply.status).toBe(503)
    expect(reply.headers['x-aegis-block']).toBe('sealed')
    expect(reply.headers['retry-after']).toBe('30')
    const problem = reply.json()
    expect(problem).toMatchObject({
      code: 'sealed',
      title: 'Vault is sealed',
      type: 'urn:aegis:problem:sealed',
    })
    expect(h.upstream.received.length).toBe(before)
    await h.ledger.flush()
    const entry = h.ledger.query({ limit: 50 }).find((e) => e.requestId === problem.instance)
    expect(entry).toMatchObject({ service: 'svc', decision: 'blocked', code: 'sealed', status: 503 })
  })

  it('serves once unsealed, and refuses the very next request after sealing (no reload needed)', async () => {
    sealedNow = false
    h.gate.refresh()
    expect(await health()).toMatchObject({
      status: 200,
      body: { status: 'ok', sealed: false, credentials: 1 },
    })
    expect((await send(h.port, '/svc/repos')).status).toBe(200)
    expect(h.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`)

    sealedNow = true
    const before = h.upstream.received.length
    const reply = await send(h.port, '/svc/repos')
    expect(reply.status).toBe(503)
    expect(reply.headers['x-aegis-block']).toBe('sealed')
    expect(h.upstream.received.length).toBe(before)
  })

  it('serves the very next request after an unseal, not an empty snapshot until the next poll', async () => {
    sealedNow = true
    h.gate.refresh() // the snapshot a poll builds while sealed: no credential, no agent
    sealedNow = false
    const reply = await send(h.port, '/svc/repos')
    expect(reply.headers['x-aegis-block']).toBeUndefined()
    expect(reply.status).toBe(200)
    expect(h.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`)
  })
})

describe('MCP discovery on a sealed source', () => {
  it('is refused with sealed, like every proxied request', async () => {
    const pipeline = createPipeline({
      credentials: { loadAll: () => [], changeToken: () => 's', isSealed: () => true },
      audit: { append: async () => 1, complete: () => undefined, system: async () => 1 },
    })
    expect(pipeline.engine.services(null)).toMatchObject({ ok: false, refusal: { code: 'sealed' } })
    await pipeline.close()
  })
})
