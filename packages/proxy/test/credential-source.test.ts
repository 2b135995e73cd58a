import { request } from 'node:http'
import type { Ledger } from '@aegis/ledger'
import type { Vault } from '@aegis/vault'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type AuditEntry,
  type AuditSink,
  type CredentialSource,
  createGate,
  type Gate,
  type SourceCredential,
} from '../src/index.js'
import { testPki } from './fixtures/tls.js'
import { startUpstream, type TestUpstream } from './fixtures/upstream.js'

// Compile-time contract: the vault and the ledger stay drop-in implementations. If either drifts
// from what the gate asks for, `pnpm typecheck` fails here.
export function vaultIsACredentialSource(vault: Vault): CredentialSource {
  return vault
}
export function ledgerIsAnAuditSink(ledger: Ledger): AuditSink {
  return ledger
}

/** An audit sink in memory: what an embedder without SQLite passes. */
function memoryAudit(): AuditSink & { entries: AuditEntry[] } {
  const entries: AuditEntry[] = []
  return {
    entries,
    async append(entry) {
      entries.push(entry)
      return entries.length
    },
    complete() {},
    async system() {
      return 0
    },
  }
}

function credential(service: string, secret: SourceCredential['secret']): SourceCredential {
  return {
    id: `id-${service}`,
    name: service,
    service,
    domains: ['api.example.test'],
    scopes: ['*'],
    expiresAt: null,
    rateLimit: null,
    authType: 'bearer',
    headerName: null,
    queryParam: null,
    bodyInspection: 'block',
    secret,
  }
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
      .on('error', reject)
      .end()
  })
}

let gate: Gate | undefined
let upstream: TestUpstream | undefined
afterEach(async () => {
  await gate?.close()
  await upstream?.close()
})

describe('an in-memory credential source (no vault)', () => {
  it.each([
    ['a plain string secret', 'sk-plain-string-secret-0123456789'],
    ['an object with reveal()', { reveal: () => 'sk-revealed-object-secret-0123456789' }],
  ] as const)('injects %s', async (_name, secret) => {
    upstream = await startUpstream()
    const source: CredentialSource = { loadAll: () => [credential('svc', secret)], changeToken: () => '1' }
    const audit = memoryAudit()
    gate = createGate({
      credentials: source,
      audit,
      port: 0,
      upstream: {
        ca: [testPki().caCert],
        resolve: [{ host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: upstream.port }],
      },
    })
    const { port } = await gate.listen()
    const res = await get(port, '/svc/v1/thing')
    expect(res.status).toBe(200)
    const plain = typeof secret === 'string' ? secret : secret.reveal()
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${plain}`)
    expect(res.body).not.toContain(plain)
    expect(audit.entries.at(-1)?.decision).toBe('allowed')
  })
})
