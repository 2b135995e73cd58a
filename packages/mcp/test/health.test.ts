import { type AuditSink, type CredentialSource, createPipeline, type Pipeline } from '@aegis/proxy'
import { Drain } from '@aegis/proxy/internal'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildMcpServer } from '../src/server.js'
import { call, problemOf, silentLogger, startWorld, type World } from './fixtures/world.js'

/**
 * `aegis_health` tells the truth the gate's `/_aegis/health` tells, from the same check: a ledger
 * that cannot be written, a sealed vault or a server shutting down is an error result naming the
 * refusal every request would get now — never `status: 'ok'`.
 */
let w: World
let pipeline: Pipeline
let ledgerDown = false
let sealedNow = false
let systemCalls = 0
const drain = new Drain()
let client: Client

beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'svc', service: 'svc', secret: 'health-test-secret-value-1234' })
  const outage = () => Promise.reject(new Error('connection refused'))
  const audit: AuditSink = {
    append: (entry) => (ledgerDown ? outage() : w.ledger.append(entry)),
    complete: (id, outcome) => w.ledger.complete(id, outcome),
    system: (event, detail) => {
      systemCalls++
      return ledgerDown ? outage() : w.ledger.system(event, detail)
    },
  }
  const vault = w.vault
  const credentials: CredentialSource = {
    loadCredentials: () => vault.loadCredentials(),
    loadAll: () => vault.loadAll(),
    loadAgents: () => vault.loadAgents(),
    changeToken: () => vault.changeToken(),
    isSealed: () => sealedNow,
  }
  pipeline = createPipeline({
    credentials,
    audit,
    logger: silentLogger(),
    upstream: { ca: [w.caCert], resolve: w.resolve },
  })
  pipeline.start()
  const server = buildMcpServer({ engine: pipeline.engine, agentToken: null }, drain)
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  await server.connect(serverSide)
  client = new Client({ name: 'health-test', version: '1.0.0' })
  await client.connect(clientSide)
})
afterAll(async () => {
  await client.close()
  await pipeline.close()
  await w.close()
})

const health = () => call(client, 'aegis_health')

describe('aegis_health', () => {
  it('is ok while requests can be served', async () => {
    const result = await health()
    expect(result.isError).toBeFalsy()
    expect(result.structuredContent).toMatchObject({ status: 'ok', services: 1 })
  })

  it('is ledger_unavailable while the audit ledger cannot be written, and notices recovery itself', async () => {
    ledgerDown = true
    const refused = await call(client, 'aegis_proxy_request', { service: 'svc', path: '/x' })
    expect(problemOf(refused).code).toBe('ledger_unavailable')
    systemCalls = 0
    expect(problemOf(await health())).toMatchObject({ code: 'ledger_unavailable', status: 503 })
    // A flood of health calls is not a flood of writes (the gate's bound: one a second).
    await Promise.all(Array.from({ length: 20 }, () => health()))
    expect(systemCalls).toBeLessThanOrEqual(1)
    ledgerDown = false
    const deadline = Date.now() + 3000
    let result = await health()
    while (result.isError && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      result = await health()
    }
    expect(result.structuredContent).toMatchObject({ status: 'ok' })
    await w.ledger.flush()
    expect(w.ledger.query({ system: true, limit: 5 }).map((e) => e.event)).toContain('ledger_recovered')
  })

  it('is sealed while the vault is sealed', async () => {
    sealedNow = true
    try {
      expect(problemOf(await health())).toMatchObject({ code: 'sealed', status: 503 })
    } finally {
      sealedNow = false
    }
    expect((await health()).isError).toBeFalsy()
  })

  it('is shutting_down once the server drains', async () => {
    drain.startClosing()
    expect(problemOf(await health())).toMatchObject({ code: 'shutting_down', status: 503 })
  })
})
