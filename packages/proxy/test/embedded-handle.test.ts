import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createVault, type Vault } from '@aegis/vault'
import { afterEach, describe, expect, it } from 'vitest'
import { type AuditSink, createGate, type Gate } from '../src/index.js'
import { MASTER_KEY } from './fixtures/harness.js'
import { testPki } from './fixtures/tls.js'
import { startUpstream, type TestUpstream } from './fixtures/upstream.js'

const audit: AuditSink = {
  append: async () => 1,
  complete() {},
  async system() {
    return 1
  },
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
      .on('error', reject)
      .end()
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let cleanup: (() => Promise<void>) | undefined
afterEach(async () => {
  await cleanup?.()
  cleanup = undefined
})

describe('gate.handle inside the embedder’s own server', () => {
  it('serves a credential added to the store after start within 1 s, without listen()', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aegis-embed-'))
    const vault: Vault = createVault({ dataDir, name: 'default', masterKey: MASTER_KEY })
    const upstream: TestUpstream = await startUpstream()
    const gate: Gate = createGate({
      credentials: vault,
      audit,
      upstream: {
        ca: [testPki().caCert],
        resolve: [{ host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: upstream.port }],
      },
    })
    const server: Server = createServer((req, res) => gate.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    cleanup = async () => {
      await new Promise((r) => server.close(r))
      await gate.close()
      await upstream.close()
      vault.close()
      rmSync(dataDir, { recursive: true, force: true })
    }

    expect(await get(port, '/late/v1/x')).not.toBe(200)
    // Added by the store, not through the gate: only the poller can notice.
    vault.add({
      name: 'late',
      service: 'late',
      secret: 'sk-late-added-secret-0123456789',
      domains: ['api.example.test'],
    })
    const deadline = Date.now() + 1000
    let status = 0
    while (Date.now() < deadline) {
      status = await get(port, '/late/v1/x')
      if (status === 200) break
      await sleep(50)
    }
    expect(status).toBe(200)
    expect(upstream.received.at(-1)?.headers.authorization).toBe('Bearer sk-late-added-secret-0123456789')
  })
})
