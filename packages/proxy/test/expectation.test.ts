import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendRaw } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

// An `Expect` other than `100-continue` used to get Node's own bare 417: no problem document, no
// request id, no ledger row — a refusal the audit never saw. It is now refused like any other.

let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-expectation-secret-1' })
  token = h.vault.addAgent({ name: 'expecter' }).token
  h.vault.grant('expecter', 'slack-bot')
  h.gate.refresh()
})
afterAll(() => h.close())

const head = (expectValue: string, extra = '') =>
  `POST /slack/api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
  `X-Aegis-Agent: ${token}\r\nExpect: ${expectValue}\r\n${extra}`

describe('an expectation the gate cannot meet', () => {
  for (const [name, request] of [
    ['without a body', `${head('foo')}\r\n`],
    ['with a body', `${head('x-smuggle', 'Content-Length: 5\r\n')}\r\nhello`],
  ] as const) {
    it(`${name}: a problem answer with its request id, one ledger row, nothing forwarded`, async () => {
      const before = h.upstream.received.length
      const reply = await sendRaw(h.port, request, 1500)
      expect(reply).toMatch(/^HTTP\/1\.1 400 /)
      expect(reply).not.toMatch(/ 417 /)
      expect(reply).toMatch(/x-aegis-block: bad_request/i)
      const requestId = /x-request-id: (\S+)/i.exec(reply)?.[1]
      expect(requestId).toBeDefined()
      await h.ledger.flush()
      const rows = h.ledger.query({ limit: 500 }).filter((e) => e.requestId === requestId)
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({
        decision: 'blocked',
        code: 'bad_request',
        path: '/api/x',
      })
      expect(h.upstream.received.length).toBe(before)
    })
  }

  it('100-continue still works and is not forwarded', async () => {
    const reply = await sendRaw(
      h.port,
      `${head('100-continue', 'Content-Length: 5\r\nConnection: close\r\n')}\r\nhello`,
    )
    expect(reply).toMatch(/HTTP\/1\.1 200 /)
    const got = h.upstream.received.at(-1)
    expect(got?.headers.expect).toBeUndefined()
  })
})
