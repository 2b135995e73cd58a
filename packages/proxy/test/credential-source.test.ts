import type { Ledger } from '@aegis/ledger'
import type { Vault } from '@aegis/vault'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type AuditEntry,
  type AuditSink,
  type CredentialSource,
  createGate,
  type Gate,
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
