import { refuse } from '@aegis/guard'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type AuditEntry,
  type AuditSink,
  createGate,
  type Gate,
  type GateOptions,
  type Stage,
} from '../src/index.js'
import { send } from './fixtures/client.js'
import { memoryCredential, memorySource } from './fixtures/memory-source.js'
import { testPki } from './fixtures/tls.js'
import { startUpstream, type TestUpstream } from './fixtures/upstream.js'

const source = memorySource(
  memoryCredential({ scopes: ['read'], secret: 'sk-embedder-stage-secret-0123456789' }),
)

const call = (port: number, method: string, path: string) => send(port, path, { method })

let gate: Gate | undefined
let upstream: TestUpstream | undefined
afterEach(async () => {
  await gate?.close()
  await upstream?.close()
})

async function start(stages: GateOptions['stages']) {
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
  gate = createGate({
    credentials: source,
    audit,
    port: 0,
    stages,
    upstream: {
      ca: [testPki().caCert],
      resolve: [{ host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: upstream.port }],
    },
  })
  const { port } = await gate.listen()
  return { port, entries, upstream }
}

describe('embedder stages', () => {
  it('a refusal from an embedder stage is answered and recorded like a built-in one; nothing is forwarded', async () => {
    const noAdmin: Stage = (ctx) =>
      ctx.path.startsWith('/admin') ? refuse('policy_denied', 'The host does not allow /admin') : undefined
    const { port, entries, upstream } = await start([noAdmin])
    const res = await call(port, 'GET', '/svc/admin/users')
    expect(res.status).toBe(403)
    expect(res.json().code).toBe('policy_denied')
    expect(upstream.received).toHaveLength(0)
    expect(entries.at(-1)).toMatchObject({ decision: 'blocked', code: 'policy_denied', service: 'svc' })
    expect((await call(port, 'GET', '/svc/ok')).status).toBe(200)
  })

  it.each([
    ['an unknown service', 'GET', '/nope/x', 'service_not_found'],
    ['a scope the credential lacks', 'POST', '/svc/x', 'scope_denied'],
  ])('cannot let through what a built-in stage refuses: %s', async (_name, method, path, code) => {
    const seen: string[] = []
    // An embedder stage that would allow everything still runs only after the built-in ones.
    const allowAll: Stage = (ctx) => {
      seen.push(ctx.req.target)
      return undefined
    }
    const { port, upstream } = await start([allowAll])
    const res = await call(port, method, path)
    expect(res.json().code).toBe(code)
    expect(seen).toHaveLength(0)
    expect(upstream.received).toHaveLength(0)
  })

  it('a stage that throws refuses the request (fails closed)', async () => {
    const broken: Stage = () => {
      throw new Error('embedder bug')
    }
    const { port, upstream, entries } = await start([broken])
    const res = await call(port, 'GET', '/svc/x')
    expect(res.status).toBe(400)
    expect(upstream.received).toHaveLength(0)
    expect(entries.at(-1)?.decision).toBe('blocked')
  })

  it('a stage that is not a function is a clear error at construction', () => {
    expect(() =>
      createGate({ credentials: source, audit: {} as AuditSink, stages: ['nope' as unknown as Stage] }),
    ).toThrow(/stages\[0\] must be a function/)
  })
})
