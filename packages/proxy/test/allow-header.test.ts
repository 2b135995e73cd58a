import { refuse } from '@aegis/guard'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stage } from '../src/index.js'
import { sendRaw } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

// RFC 9110 §15.5.6: a 405 carries `Allow`. The gate's 405s (TRACE, never forwarded; any
// `method_not_allowed` an embedder stage returns) had none, so a client could not learn what to use.
// (TRACK never gets this far: Node's parser refuses it as an unknown method, a 400.)

const SECRET = 'sk-allow-header-0123456789abcdef'
/** An embedder stage that refuses PROPFIND the way a host might. */
const noPropfind: Stage = (ctx) =>
  ctx.req.method === 'PROPFIND' ? refuse('method_not_allowed', 'PROPFIND is not served here') : undefined

let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness({ gate: { stages: [noPropfind] } })
  h.add({ name: 'allow', service: 'a', secret: SECRET, scopes: ['*'] })
  token = h.vault.addAgent({ name: 'allower' }).token
  h.vault.grant('allower', 'allow')
  h.gate.refresh()
})
afterAll(() => h.close())

describe('a 405', () => {
  for (const method of ['TRACE', 'PROPFIND']) {
    it(`${method}: answered with Allow (the methods the gate forwards), recorded, nothing forwarded`, async () => {
      const before = h.upstream.received.length
      const reply = await sendRaw(
        h.port,
        `${method} /a/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
          `X-Aegis-Agent: ${token}\r\nConnection: close\r\n\r\n`,
      )
      expect(reply).toMatch(/^HTTP\/1\.1 405 /)
      expect(reply).toMatch(/\r\nallow: GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE\r\n/i)
      expect(reply).toMatch(/\r\nx-aegis-block: method_not_allowed\r\n/i)
      const id = /x-request-id: (\S+)/i.exec(reply)?.[1]
      await h.ledger.flush()
      const rows = h.ledger.query({ limit: 50 }).filter((r) => r.requestId === id)
      expect(rows).toMatchObject([{ method, decision: 'blocked', code: 'method_not_allowed', status: 405 }])
      expect(h.upstream.received.length).toBe(before)
    })
  }

  it('the methods it names are served', async () => {
    const reply = await sendRaw(
      h.port,
      `OPTIONS /a/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
        `X-Aegis-Agent: ${token}\r\nConnection: close\r\n\r\n`,
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
  })
})
