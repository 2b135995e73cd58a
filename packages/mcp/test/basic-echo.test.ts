import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../../proxy/test/fixtures/client.js'
import { testPki } from '../../proxy/test/fixtures/tls.js'
import { call, startWorld, textOf, type World } from './fixtures/world.js'

/**
 * A `basic` credential (`user:password`) reaches the upstream as `Basic base64(user:password)`.
 * An upstream that echoes the password alone ("wrong password …") or the Authorization header
 * encoded once more (hex, base64) showed it to the agent on both channels: the matcher knew only
 * the whole `user:password` and its encodings.
 */
const PASSWORD = 'Pa55word-basic-echo-7c1d'
const SECRET = `service-user:${PASSWORD}`
const WIRE = Buffer.from(SECRET).toString('base64')
const HOST = 'basic.example.test'

let upstream: Server
let w: World
beforeAll(async () => {
  const pki = testPki()
  upstream = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    req.resume()
    const header = String(req.headers.authorization ?? '')
    const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8')
    const password = decoded.slice(decoded.indexOf(':') + 1)
    res.writeHead(401, { 'content-type': 'application/json', 'x-hint': `wrong password ${password}` })
    res.end(
      JSON.stringify({
        error: `wrong password ${password}`,
        authorizationHex: Buffer.from(header).toString('hex'),
        authorizationBase64: Buffer.from(header).toString('base64'),
      }),
    )
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  const port = (upstream.address() as AddressInfo).port
  w = await startWorld({
    pipeline: { upstream: { resolve: [{ host: HOST, port: 443, address: '127.0.0.1', addressPort: port }] } },
  })
  w.add({ name: 'basic-bot', service: 'basic', secret: SECRET, authType: 'basic', domains: [HOST] })
})
afterAll(async () => {
  await w.close()
  upstream.close()
})

/** Every form of the password or of the wire value the agent could read back. */
function leaked(text: string): string[] {
  const forms: Record<string, string> = {
    password: PASSWORD,
    wire: WIRE,
    wireHex: Buffer.from(WIRE).toString('hex'),
    headerBase64: Buffer.from(`Basic ${WIRE}`).toString('base64').slice(8, 40),
  }
  return Object.entries(forms)
    .filter(([, v]) => text.toLowerCase().includes(v.toLowerCase()))
    .map(([k]) => k)
}

describe('a basic credential echoed in parts or re-encoded', () => {
  it('is redacted at the gate', async () => {
    const reply = await send(w.gatePort, '/basic/login')
    expect(reply.status).toBe(401)
    expect(leaked(reply.text + JSON.stringify(reply.headers))).toEqual([])
    expect(reply.text).toContain('[REDACTED]')
  })

  it('is redacted in the MCP tool result', async () => {
    const client = await w.connect()
    const result = await call(client, 'aegis_proxy_request', { service: 'basic', path: '/login' })
    expect(result.isError).toBeFalsy()
    expect(leaked(textOf(result) + JSON.stringify(result.structuredContent))).toEqual([])
    expect(textOf(result)).toContain('[REDACTED]')
  })

  it('the password alone is refused outbound', async () => {
    const client = await w.connect()
    const result = await call(client, 'aegis_proxy_request', {
      service: 'basic',
      path: '/login',
      method: 'POST',
      body: JSON.stringify({ password: PASSWORD }),
    })
    expect(JSON.parse(textOf(result)).code).toBe('body_inspection')
  })
})
