import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

let w: World
let client: Client
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-arg-types-secret-1' })
  client = await w.connect()
})
afterAll(() => w.close())

// Arguments of the wrong type, or missing: the SDK's input validation used to answer them (-32602
// style, no code) and nothing was recorded. They are a request the agent made, refused: bad_request,
// the problem document, one ledger row.
const cases: { args: Record<string, unknown>; detail: string; method?: string }[] = [
  { args: { service: 5, path: '/a' }, detail: 'service must be a string' },
  { args: { path: '/a' }, detail: 'service is required: a string' },
  { args: {}, detail: 'service is required: a string; path is required: a string' },
  { args: { service: 'slack', path: ['/a'] }, detail: 'path must be a string' },
  {
    args: { service: 'slack', path: '/a', headers: { a: 1 } },
    detail: 'headers must be an object of header names to string values',
  },
  {
    args: { service: 'slack', path: '/a', headers: 'a: b' },
    detail: 'headers must be an object of header names to string values',
  },
  { args: { service: 'slack', path: '/a', method: 'POST', body: {} }, detail: 'body must be a string' },
  { args: { service: 'slack', path: '/a', body: null }, detail: 'body must be a string' },
  { args: { service: 'slack', path: '/a', method: 7 }, detail: 'method must be a string', method: 'UNKNOWN' },
  { args: { service: 'slack', path: '/a', targetHost: 443 }, detail: 'targetHost must be a string' },
]

describe('aegis_proxy_request arguments of the wrong type', () => {
  for (const c of cases) {
    it(`${JSON.stringify(c.args)}: bad_request naming the argument, recorded once`, async () => {
      await w.ledger.flush()
      const rowsBefore = w.ledger.query({ limit: 1000 }).length
      const forwardedBefore = w.upstream.received.length
      const result = await call(client, 'aegis_proxy_request', c.args)
      const problem = problemOf(result)
      expect(problem).toMatchObject({
        code: 'bad_request',
        status: 400,
        type: 'urn:aegis:problem:bad_request',
        detail: c.detail,
      })
      expect(result.structuredContent).toBeUndefined()
      expect(w.upstream.received.length).toBe(forwardedBefore)
      await w.ledger.flush()
      const rows = w.ledger.query({ limit: 1000 })
      expect(rows.length).toBe(rowsBefore + 1)
      const row = rows.find((e) => e.requestId === problem.instance)
      expect(row).toMatchObject({
        channel: 'mcp',
        decision: 'blocked',
        code: 'bad_request',
        status: 400,
        method: c.method ?? (typeof c.args.method === 'string' ? c.args.method : 'GET'),
      })
    })
  }

  it('still advertises the strict input schema in tools/list', async () => {
    const { tools } = await client.listTools()
    const schema = tools.find((t) => t.name === 'aegis_proxy_request')?.inputSchema as Record<string, unknown>
    const props = schema.properties as Record<string, Record<string, unknown>>
    expect(schema.type).toBe('object')
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#')
    expect((schema.required as string[]).sort()).toEqual(['path', 'service'])
    // The permissive object the SDK checks leaves no trace: no open `additionalProperties`.
    expect(schema.additionalProperties).toBeUndefined()
    for (const name of ['service', 'path', 'method', 'body', 'targetHost']) {
      expect(props[name]?.type, name).toBe('string')
    }
    expect(props.headers).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } })
    expect(props.method?.enum).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
    expect(props.service?.pattern).toBe('^[^/?#\\s]+$')
    expect(props.path?.pattern).toBe('^/')
    // The one default is the method's real one.
    const defaults = Object.entries(props).filter(([, p]) => 'default' in p)
    expect(defaults).toEqual([['method', expect.objectContaining({ default: 'GET' })]])
  })

  it('takes well-typed arguments as before (unknown extra arguments ignored)', async () => {
    const result = await call(client, 'aegis_proxy_request', { service: 'slack', path: '/ok', extra: 1 })
    expect(result.isError).toBeFalsy()
    expect((result.structuredContent as { status: number }).status).toBe(200)
  })
})

describe('rows of calls refused before the pipeline', () => {
  it('name the service and the path (without the query) as a pipeline refusal of the same call does', async () => {
    const piped = problemOf(await call(client, 'aegis_proxy_request', { service: 'nosuch', path: '/p?q=1' }))
    expect(piped.code).toBe('service_not_found')
    const calls = [
      { service: 'nosuch', path: '/p?q=1', method: 7 },
      { service: 'nosuch', path: '/p?q=1', method: 'get' },
      { service: 'nosuch', path: '/p?q=1', headers: { 'Content-Length': '9' } },
    ]
    await w.ledger.flush()
    const rowOf = (id: unknown) => w.ledger.query({ limit: 1000 }).find((e) => e.requestId === id)
    const pipelineRow = rowOf(piped.instance)
    expect(pipelineRow).toMatchObject({ service: 'nosuch', path: '/p' })
    for (const args of calls) {
      const problem = problemOf(await call(client, 'aegis_proxy_request', args))
      expect(problem.code, JSON.stringify(args)).toBe('bad_request')
      await w.ledger.flush()
      expect(rowOf(problem.instance), JSON.stringify(args)).toMatchObject({
        channel: 'mcp',
        code: 'bad_request',
        service: pipelineRow?.service,
        path: pipelineRow?.path,
      })
    }
  })
})
