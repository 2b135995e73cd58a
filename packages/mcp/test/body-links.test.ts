import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../../proxy/test/fixtures/client.js'
import { call, startWorld, textOf, type World } from './fixtures/world.js'

/**
 * The HTTP gate rebases a next-page link onto itself (a `Link` header, `@odata.nextLink` in a JSON
 * body): an SDK follows it through the gate. An MCP client follows no URL: it calls
 * `aegis_proxy_request` again with the service and the link's path. The tool result therefore shows
 * the links as the upstream wrote them (a gate URL would name a listener the MCP client may not even
 * have), deliberately unlike the HTTP gate.
 */
const SECRET = 'graph-mcp-vault-secret-0123456789ab'
const NEXT = "https://api.example.test/script/users?$top=1&$filter=startswith(name,'a')&$skiptoken=2"
const BODY = JSON.stringify({ value: [{ id: '1' }], '@odata.nextLink': NEXT })

let w: World
let client: Client
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'graph', service: 'graph', secret: SECRET })
  w.upstream.scripts.set('users', (socket) => {
    socket.end(
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' +
        `Link: <${NEXT}>; rel="next"\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\nConnection: close\r\n\r\n${BODY}`,
    )
  })
  client = await w.connect()
})
afterAll(() => w.close())

describe('MCP: page links in an answer', () => {
  it('come back as the upstream wrote them; the next page is one more call with their path', async () => {
    const result = JSON.parse(
      textOf(await call(client, 'aegis_proxy_request', { service: 'graph', path: '/script/users' })),
    )
    expect(result.body).toBe(BODY)
    expect(result.headers.link).toBe(`<${NEXT}>; rel="next"`)
    const next = new URL(JSON.parse(result.body)['@odata.nextLink'])
    const before = w.upstream.received.length
    await call(client, 'aegis_proxy_request', { service: 'graph', path: next.pathname + next.search })
    expect(w.upstream.received.length).toBe(before + 1)
    expect(w.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`)
  })

  it('while the HTTP gate, on the same upstream, rebases them onto itself', async () => {
    const reply = await send(w.gatePort, '/graph/script/users')
    const gate = `http://127.0.0.1:${w.gatePort}/graph`
    expect(reply.json()['@odata.nextLink']).toBe(NEXT.replace('https://api.example.test', gate))
    expect(reply.headers.link).toBe(`<${NEXT.replace('https://api.example.test', gate)}>; rel="next"`)
  })
})
