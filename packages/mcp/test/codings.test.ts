import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RawSpec, rawPath } from '../../proxy/test/fixtures/upstream.js'
import { call, problemOf, startWorld, textOf, type World } from './fixtures/world.js'

// The MCP channel runs the same stages as the HTTP gate: the same coding and header rules apply.
const SECRET = 'xoxb-mcp-codings-secret-9d2c'
const FOREIGN_GITHUB_TOKEN = ['ghp', '_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('')

let w: World
let client: Client
beforeAll(async () => {
  w = await startWorld({ pipeline: { stripRequestHeaders: ['x-extra-secret'] } })
  w.add({ name: 'slack-bot', service: 'slack', secret: SECRET })
  client = await w.connect()
})
afterAll(() => w.close())

async function proxy(args: Record<string, unknown>) {
  return call(client, 'aegis_proxy_request', { service: 'slack', ...args })
}

describe('MCP: request codings', () => {
  const cases: [string, Record<string, string>, string, string][] = [
    [
      'two CE keys differing in case',
      { 'Content-Encoding': 'identity', 'content-encoding': 'gzip' },
      'body_inspection',
      'decoded',
    ],
    ['stacked CE', { 'content-encoding': 'gzip, br' }, 'body_inspection', 'stacked'],
    ['duplicate CE in one value', { 'content-encoding': 'GZIP, x-gzip' }, 'body_inspection', 'stacked'],
    ['CE zstd', { 'content-encoding': 'zstd' }, 'body_inspection', '"zstd"'],
    ['TE gzip', { 'transfer-encoding': 'gzip, chunked' }, 'bad_request', 'Transfer-Encoding "gzip"'],
    ['TE unknown', { 'Transfer-Encoding': 'x-mine' }, 'bad_request', 'unknown coding'],
  ]
  for (const [label, headers, code, detail] of cases) {
    it(`refuses ${label} (${code})`, async () => {
      const before = w.upstream.received.length
      const problem = problemOf(await proxy({ path: '/api/x', method: 'POST', headers, body: 'plain text' }))
      expect(problem.code, label).toBe(code)
      expect(String(problem.detail)).toContain(detail)
      expect(w.upstream.received.length).toBe(before)
    })
  }
})

describe('MCP: credential headers', () => {
  it('drops conventional credential headers, configured names and credential-shaped values', async () => {
    const result = await proxy({
      path: '/api/x',
      headers: {
        'X-Api-Key': 'agent-own-1',
        'Api-Key': 'agent-own-2',
        'X-Goog-Api-Key': 'agent-own-3',
        'Ocp-Apim-Subscription-Key': 'agent-own-4',
        'X-Extra-Secret': 'agent-own-5',
        'X-Anything': `token ${FOREIGN_GITHUB_TOKEN}`,
        'X-Note': 'kept',
      },
    })
    expect(result.isError).toBeFalsy()
    const raw = w.upstream.received.at(-1)?.rawHeaders.join('\n') ?? ''
    expect(raw).not.toContain('agent-own')
    expect(raw).not.toContain(FOREIGN_GITHUB_TOKEN)
    expect(raw).toContain('kept')
  })
})

describe('MCP: response codings', () => {
  it('refuses a stacked response coding with upstream_encoding_unsupported', async () => {
    const spec: RawSpec = {
      headers: [
        ['Content-Encoding', 'gzip'],
        ['Content-Encoding', 'gzip'],
      ],
      encode: ['gzip', 'gzip'],
      frame: 'length',
    }
    const result = await proxy({ path: rawPath(spec) })
    expect(problemOf(result)).toMatchObject({ code: 'upstream_encoding_unsupported', status: 502 })
    expect(textOf(result)).not.toContain(SECRET)
  })

  it('decodes a gzip response whose Content-Encoding is named in Connection', async () => {
    const spec: RawSpec = {
      headers: [
        ['Connection', 'content-encoding'],
        ['Content-Encoding', 'gzip'],
      ],
      encode: ['gzip'],
      frame: 'length',
    }
    const result = await proxy({ path: rawPath(spec) })
    expect(result.isError).toBeFalsy()
    const body = (result.structuredContent as { body: string }).body
    expect(JSON.parse(body)).toEqual({ echo: 'Bearer [REDACTED]' })
    expect(JSON.stringify(result)).not.toContain(SECRET)
  })
})
