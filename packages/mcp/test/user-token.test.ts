/** Operator (RBAC) user tokens on the MCP channel: refused outbound, redacted inbound, as on the gate. */
import { generateUserToken } from '@aegis/guard'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

const TOKEN = generateUserToken()
const pct = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')

let w: World
let client: Client
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-1111-2222-slacksecretvalue' })
  w.add({ name: 'open', service: 'open', secret: 'open-secret-value-4242', bodyInspection: 'off' })
  client = await w.connect()
})
afterAll(() => w.close())

describe('MCP channel: a user token sent by the agent', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['body, raw', { path: '/post', method: 'POST', body: `{"t":"${TOKEN}"}` }],
    ['body, percent-encoded', { path: '/post', method: 'POST', body: `t=${pct(TOKEN)}` }],
    ['query, raw', { path: `/search?q=${TOKEN}` }],
    ['query, percent-encoded', { path: `/search?q=${pct(TOKEN)}` }],
    ['header, percent-encoded', { path: '/x', headers: { 'x-note': pct(TOKEN) } }],
    ['path, raw', { path: `/notes/${TOKEN}` }],
  ]
  it.each(cases)('is refused with body_inspection (%s), never forwarded', async (_name, args) => {
    const before = w.upstream.received.length
    const result = await call(client, 'aegis_proxy_request', { service: 'slack', ...args })
    expect(problemOf(result).code).toBe('body_inspection')
    expect(w.upstream.received.length).toBe(before)
    expect(JSON.stringify(result)).not.toContain(TOKEN.slice(20))
  })
})

describe('MCP channel: a user token in a response', () => {
  it('is redacted', async () => {
    const result = await call(client, 'aegis_proxy_request', {
      service: 'open',
      path: '/echo',
      method: 'POST',
      body: `note ${TOKEN} end`,
    })
    expect(result.isError).toBeFalsy()
    const body = (result.structuredContent as { body: string }).body
    expect(body).toContain('note [REDACTED] end')
    expect(JSON.stringify(result)).not.toContain(TOKEN.slice(11))
  })
})
