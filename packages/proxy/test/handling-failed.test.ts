import { afterEach, describe, expect, it } from 'vitest'
import { type AuditEntry, type AuditSink, createGate, type Gate, type RequestObserver } from '../src/index.js'
import { send } from './fixtures/client.js'
import { memoryCredential, memorySource } from './fixtures/memory-source.js'
import { testPki } from './fixtures/tls.js'
import { startUpstream, type TestUpstream } from './fixtures/upstream.js'

let gate: Gate | undefined
let upstream: TestUpstream | undefined
afterEach(async () => {
  await gate?.close()
  await upstream?.close()
})

describe('a request whose handling fails (a bug, a broken host component)', () => {
  it('gets a whole 502 problem document with its request id, and the connection closes', async () => {
    upstream = await startUpstream()
    const entries: AuditEntry[] = []
    const audit: AuditSink = {
      async append(entry) {
        entries.push(entry)
        return entries.length
      },
      complete() {},
      async system() {
        return 0
      },
    }
    // The embedder's observer throws: the request cannot be handled.
    const observer: RequestObserver = {
      requestStarted() {
        throw new Error('observer broke')
      },
      requestEnded() {},
      ledgerWriteFailed() {},
      snapshotChanged() {},
    }
    gate = createGate({
      credentials: memorySource(memoryCredential({ secret: 'sk-handling-failed-secret-0123456789' })),
      audit,
      observer,
      port: 0,
      upstream: {
        ca: [testPki().caCert],
        resolve: [{ host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: upstream.port }],
      },
    })
    const { port } = await gate.listen()
    const res = await send(port, '/svc/x')
    expect(res.status).toBe(502)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.headers['x-aegis-block']).toBe('upstream_unreachable')
    expect(res.headers.connection).toBe('close')
    const requestId = res.headers['x-request-id']
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.json()).toMatchObject({ code: 'upstream_unreachable', status: 502, instance: requestId })
    expect(JSON.stringify(res.json())).not.toContain('observer broke')
    expect(upstream.received).toHaveLength(0)
  })
})
