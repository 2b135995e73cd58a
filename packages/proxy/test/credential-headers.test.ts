import { CREDENTIAL_REQUEST_HEADERS } from '@aegis/guard'
import { FORMATS } from '@aegis/inspect'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

const SLACK = 'xoxb-1111-2222-stripsecretvalue'
const KEYED = 'keyed-vault-secret-0099'

let h: Harness
beforeAll(async () => {
  // Configured like `gate.strip_request_headers: [X-Extra-Secret]`.
  h = await startHarness({ gate: { stripRequestHeaders: ['X-Extra-Secret'] } })
  h.add({ name: 'slack-bot', service: 'slack', secret: SLACK })
  h.add({ name: 'open', service: 'open', secret: 'open-secret-value-4242', bodyInspection: 'off' })
  h.add({ name: 'keyed', service: 'keyed', secret: KEYED, authType: 'header', headerName: 'X-Api-Key' })
})
afterAll(() => h.close())

/** The header lines the upstream got on the last request, as `name: value` (name lower-cased). */
function receivedLines(): string[] {
  const raw = h.upstream.received.at(-1)?.rawHeaders ?? []
  const out: string[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) out.push(`${raw[i]?.toLowerCase()}: ${raw[i + 1]}`)
  return out
}

/** Header names spelled the way an agent might: as listed, upper case, and Title-Case. */
function spellings(name: string): string[] {
  const title = name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase())
  return [...new Set([name, name.toUpperCase(), title])]
}

describe('credential headers from the agent never reach the upstream', () => {
  const names = [...CREDENTIAL_REQUEST_HEADERS, 'proxy-authorization', 'authorization', 'x-extra-secret']
  for (const service of ['slack', 'open']) {
    for (const name of names) {
      it(`drops ${name} (${service}, inspection ${service === 'open' ? 'off' : 'block'})`, async () => {
        const headers: Record<string, string> = { 'X-Note': 'kept', Cookie: 'session=abc123' }
        for (const spelled of spellings(name)) headers[spelled] = `agent-own-key-${spelled}`
        const reply = await send(h.port, `/${service}/api/x`, { headers })
        expect(reply.status, name).toBe(200)
        const lines = receivedLines()
        expect(lines.join('\n')).not.toContain('agent-own-key')
        expect(
          lines.filter((l) => l.startsWith(`${name}:`) && l !== `authorization: Bearer ${SLACK}`),
        ).toEqual(
          name === 'authorization' && service === 'open'
            ? ['authorization: Bearer open-secret-value-4242']
            : [],
        )
        expect(lines).toContain('x-note: kept')
        expect(lines).toContain('cookie: session=abc123')
      })
    }
  }

  // Every known format that fits in a header value (a PEM key spans lines; HTTP values cannot).
  const shaped = FORMATS.filter((f) => !f.example.includes('\n'))
  for (const format of shaped) {
    it(`drops any header whose value has the ${format.id} format, and forwards the rest`, async () => {
      for (const service of ['slack', 'open']) {
        const reply = await send(h.port, `/${service}/api/x`, {
          headers: {
            'X-Mine': `Token ${format.example}`,
            'X-Mine-Too': format.example,
            Cookie: `sid=${format.example}`,
            'X-Note': 'kept',
          },
        })
        expect(reply.status, `${format.id} via ${service}`).toBe(200)
        const lines = receivedLines().join('\n')
        expect(lines).not.toContain(format.example)
        expect(lines).not.toMatch(/x-mine|cookie/)
        expect(lines).toContain('x-note: kept')
      }
    })
  }

  it("keeps the credential's own header to the vault's value", async () => {
    const reply = await send(h.port, '/keyed/api/x', {
      headers: { 'X-Api-Key': 'agent-own', 'x-apikey': 'x' },
    })
    expect(reply.status).toBe(200)
    const lines = receivedLines()
    expect(lines.filter((l) => l.startsWith('x-api'))).toEqual([`x-api-key: ${KEYED}`])
  })
})
