import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { editVaultFile, readVaultFile } from '../../vault/test/fixtures/corrupt-rows.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

// `vault rotate` changes only a credential's secret envelope. An envelope saved before it and
// written back with SQL (no master key) still decrypts: the gate must not inject that old secret.

const OLD = 'old-secret-value-before-rotate-1111'
const NEW = 'new-secret-value-after-rotate-2222'

let h: Harness
let saved: Buffer
beforeAll(async () => {
  h = await startHarness({
    prepare: (vault) => {
      vault.add({ name: 'api', service: 'api', secret: OLD, domains: ['api.example.test'] })
      vault.add({
        name: 'other',
        service: 'other',
        secret: 'other-secret-value-3333',
        domains: ['api.example.test'],
      })
      saved = readVaultFile(vault.file, "SELECT secret FROM credentials WHERE name = 'api'")[0]
        ?.secret as Buffer
      vault.rotate('api', NEW)
    },
  })
})
afterAll(() => h.close())

describe('a rotated secret whose old envelope is written back under a running gate', () => {
  it('is refused with credential_unavailable (503) and a ledger row; nothing is forwarded', async () => {
    const served = await send(h.port, '/api/x')
    expect(served.status).toBe(200)
    expect(h.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${NEW}`)

    editVaultFile(h.vault.file, "UPDATE credentials SET secret = ? WHERE name = 'api'", saved)
    h.gate.refresh()
    const before = h.upstream.received.length
    for (const service of ['api', 'other']) {
      const reply = await send(h.port, `/${service}/x`)
      expect(reply.status).toBe(503)
      expect(reply.headers['x-aegis-block']).toBe('credential_unavailable')
      expect(reply.text).not.toContain(OLD)
      await h.ledger.flush()
      const entry = h.ledger.query({ limit: 50 }).find((e) => e.requestId === reply.json().instance)
      expect(entry).toMatchObject({
        service,
        decision: 'blocked',
        code: 'credential_unavailable',
        status: 503,
      })
    }
    expect(h.upstream.received.length).toBe(before)
    expect(JSON.stringify(h.upstream.received)).not.toContain(OLD)
  })
})
