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
import { send } from './fixtures/client.js'
import { memoryCredential, memorySource } from './fixtures/memory-source.js'
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
    const audit = memoryAudit()
    gate = createGate({
      credentials: memorySource(memoryCredential({ secret })),
      audit,
      port: 0,
      upstream: {
        ca: [testPki().caCert],
        resolve: [{ host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: upstream.port }],
      },
    })
    const { port } = await gate.listen()
    const res = await send(port, '/svc/v1/thing')
    expect(res.status).toBe(200)
    const plain = typeof secret === 'string' ? secret : secret.reveal()
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${plain}`)
    expect(res.text).not.toContain(plain)
    expect(audit.entries.at(-1)?.decision).toBe('allowed')
  })
})

async function gateOver(credentials: CredentialSource) {
  upstream = await startUpstream()
  gate = createGate({
    credentials,
    audit: memoryAudit(),
    port: 0,
    upstream: {
      ca: [testPki().caCert],
      resolve: [{ host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: upstream.port }],
    },
  })
  const { port } = await gate.listen()
  return { port, upstream }
}

describe('the optional credential fields', () => {
  it('default to the strictest reading: Bearer injection, outbound inspection block', async () => {
    const secret = 'sk-minimal-credential-0123456789'
    const minimal = {
      id: 'm',
      name: 'min',
      service: 'svc',
      domains: ['api.example.test'],
      scopes: ['*'],
      secret,
    }
    const { port, upstream } = await gateOver(memorySource(minimal as SourceCredential))
    expect((await send(port, '/svc/ok')).status).toBe(200)
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${secret}`)
    // block: the secret sent back out by the agent is refused, not forwarded
    const before = upstream.received.length
    const leak = await send(port, '/svc/x', { method: 'POST', body: `token=${secret}` })
    expect(leak.json().code).toBe('body_inspection')
    expect(upstream.received.length).toBe(before)
  })

  // A source that is not the vault (which validates on write) may hand over anything: what the
  // gate cannot read makes the service unavailable, never served half-configured.
  it.each([
    ['an unknown authType', { authType: 'cookie' }],
    ['a header credential without headerName', { authType: 'header', headerName: null }],
    ['an unknown bodyInspection', { bodyInspection: 'maybe' }],
    ['an expiresAt that is not a date', { expiresAt: 'next tuesday' }],
    ['a bearer secret a header cannot carry', { secret: '秘密-sk-broken-0123456789' }],
    [
      'a header secret a header cannot carry',
      { authType: 'header', headerName: 'X-Key', secret: '秘密-sk-broken-0123456789' },
    ],
  ])('refuses a credential with %s (credential_unavailable), serving the others', async (_name, bad) => {
    const broken = memoryCredential({
      service: 'broken',
      secret: 'sk-broken-credential-0123456789',
      ...(bad as Partial<SourceCredential>),
    })
    const good = memoryCredential({ service: 'good', secret: 'sk-good-credential-0123456789' })
    const { port, upstream } = await gateOver(memorySource(broken, good))
    const refused = await send(port, '/broken/x')
    expect(refused.status).toBe(503)
    expect(refused.json().code).toBe('credential_unavailable')
    // Honest whatever the reason (not "damaged" for a settings mismatch), and without the secret.
    expect(refused.json().detail).not.toMatch(/damaged/)
    expect(refused.json().detail).toMatch(/gate log or with aegis doctor/)
    expect(refused.text).not.toContain('sk-broken-credential')
    expect(upstream.received).toHaveLength(0)
    expect((await send(port, '/good/x')).status).toBe(200)
  })
})
