import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ESCAPING_HOST,
  type EscapingUpstream,
  partlyEscaped,
  startEscapingUpstream,
} from '../../proxy/test/fixtures/escaping-upstream.js'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

// A credential with the characters ASP.NET Core (`+`) and Go (`<`, `&`) escape in JSON.
const SECRET = 'sk+live/9fK2=mQ7<xV4&bT1nR8-A'

let upstream: EscapingUpstream
let w: World
let client: Client
beforeAll(async () => {
  upstream = await startEscapingUpstream()
  w = await startWorld({
    pipeline: {
      upstream: {
        resolve: [{ host: ESCAPING_HOST, port: 443, address: '127.0.0.1', addressPort: upstream.port }],
      },
    },
  })
  w.add({ name: 'escaped', service: 'esc', secret: SECRET, domains: [ESCAPING_HOST] })
  client = await w.connect()
})
afterAll(async () => {
  await w.close()
  await upstream.close()
})

describe('MCP channel: partly escaped secrets', () => {
  it('refuses a JSON body holding the secret with one \\u escape (body_inspection)', async () => {
    const result = await call(client, 'aegis_proxy_request', {
      service: 'esc',
      path: '/post',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"text":"${SECRET.replace('+', '\\u002B')}"}`,
    })
    const problem = problemOf(result)
    expect(problem.code).toBe('body_inspection')
    expect(JSON.stringify(result)).not.toContain(SECRET)
  })

  for (const path of ['/small', '/big', '/gzip']) {
    it(`redacts the credential an upstream echoes partly \\u-escaped (${path})`, async () => {
      const result = await call(client, 'aegis_proxy_request', { service: 'esc', path })
      expect(result.isError).toBeFalsy()
      const response = result.structuredContent as {
        status: number
        body: string
        headers: Record<string, string>
      }
      expect(response.status).toBe(401)
      expect(response.body).not.toContain(partlyEscaped(SECRET))
      const parsed = JSON.parse(response.body) as { detail: string }
      expect(parsed.detail).toBe('key [REDACTED] is not valid here')
      expect(response.headers['x-echo']).toBe('[REDACTED]')
      expect(JSON.stringify(result)).not.toContain(partlyEscaped(SECRET))
      expect(JSON.stringify(parsed)).not.toContain(SECRET)
    })
  }
})
