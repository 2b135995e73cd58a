import { afterEach, describe, expect, it } from 'vitest'
import { type AuditEntry, type AuditOutcome, type AuditSink, createGate, type Gate } from '../src/index.js'
import { send } from './fixtures/client.js'
import { memoryCredential, memorySource } from './fixtures/memory-source.js'
import { testPki } from './fixtures/tls.js'
import { startUpstream, type TestUpstream } from './fixtures/upstream.js'

/** A host's sink that keeps no id map of its own: it must learn the request from `complete`. */
function recordingSink() {
  const appended: AuditEntry[] = []
  const completed: AuditOutcome[] = []
  const sink: AuditSink = {
    async append(entry) {
      appended.push(entry)
      return 7 // any number the host likes; the gate only hands it back
    },
    complete(_id, outcome) {
      completed.push(outcome)
    },
    async system() {
      return 0
    },
  }
  return { sink, appended, completed }
}

const source = memorySource(memoryCredential({ id: 'c1', secret: 'sk-request-id-secret-0123456789' }))

async function get(port: number, path: string): Promise<{ status: number; requestId: string }> {
  const res = await send(port, path)
  return { status: res.status, requestId: String(res.headers['x-request-id'] ?? '') }
}

let gate: Gate | undefined
let upstream: TestUpstream | undefined
afterEach(async () => {
  await gate?.close()
  await upstream?.close()
})

describe('AuditSink.complete carries the request id', () => {
  it.each([
    ['a forwarded request', true],
    ['an upstream that cannot be reached', false],
  ])('%s', async (_name, reachable) => {
    upstream = await startUpstream()
    const port = upstream.port
    if (!reachable) await upstream.close()
    const { sink, appended, completed } = recordingSink()
    gate = createGate({
      credentials: source,
      audit: sink,
      port: 0,
      upstream: {
        ca: [testPki().caCert],
        resolve: [{ host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: port }],
      },
    })
    const { port: gatePort } = await gate.listen()
    const res = await get(gatePort, '/svc/v1/x')
    expect(res.status).toBe(reachable ? 200 : 502)
    await new Promise((r) => setTimeout(r, 50))
    expect(res.requestId).not.toBe('')
    expect(appended.at(-1)?.requestId).toBe(res.requestId)
    expect(completed).toHaveLength(1)
    expect(completed[0]?.requestId).toBe(res.requestId)
    if (!reachable) upstream = undefined
  })
})
