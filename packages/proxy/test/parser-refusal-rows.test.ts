import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, sendRaw } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

// A request the HTTP parser refuses (a bad header character, an oversized header block) is recorded
// before any stage runs. Its row used to hold the whole target as its path (`/slack/a`, service
// empty) where a pipeline refusal of the same target holds service `slack` and path `/a`.

let h: Harness
let agentToken: string
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-parser-rows-secret-1' })
  agentToken = h.vault.addAgent({ name: 'framer' }).token
  h.vault.grant('framer', 'slack-bot')
  h.gate.refresh()
})
afterAll(() => h.close())

type Row = ReturnType<Harness['ledger']['query']>[number]

async function rowOf(requestId: string | undefined): Promise<Row | undefined> {
  await h.ledger.flush()
  return h.ledger.query({ limit: 500 }).find((e) => e.requestId === requestId)
}

/** Sends raw bytes; the gate's answer code and the request id it names. */
async function raw(request: string): Promise<{ code: string | undefined; requestId: string | undefined }> {
  const reply = await sendRaw(h.port, request)
  return {
    code: /x-aegis-block: (\S+)/i.exec(reply)?.[1],
    requestId: /x-request-id: (\S+)/i.exec(reply)?.[1],
  }
}

const badHeader = (target: string) => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nBad\x01Name: v\r\n\r\n`
const hugeHeaders = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`

describe('rows of requests the HTTP parser refused', () => {
  const parsed = [
    { name: 'a header name with a control character', request: badHeader, code: 'bad_request' },
    { name: 'a header block over the limit', request: hugeHeaders, code: 'headers_too_large' },
  ]
  for (const c of parsed) {
    it(`${c.name}: service and path split as a pipeline refusal of the same target splits them`, async () => {
      // The pipeline's row for the same target (no credential serves "nosuch").
      const piped = await send(h.port, '/nosuch/a/b?q=1')
      expect(piped.headers['x-aegis-block']).toBe('service_not_found')
      const pipelineRow = await rowOf(String(piped.headers['x-request-id']))
      expect(pipelineRow).toMatchObject({ service: 'nosuch', path: '/a/b' })

      const before = h.upstream.received.length
      const refused = await raw(c.request('/nosuch/a/b?q=1'))
      expect(refused.code).toBe(c.code)
      const row = await rowOf(refused.requestId)
      expect(row).toMatchObject({
        channel: 'gate',
        decision: 'blocked',
        code: c.code,
        method: 'GET',
        service: pipelineRow?.service,
        path: pipelineRow?.path,
      })

      // A served service the same way, and the query never on record.
      const served = await raw(c.request('/slack/api/chat.postMessage?token=abc'))
      expect(await rowOf(served.requestId)).toMatchObject({
        code: c.code,
        service: 'slack',
        path: '/api/chat.postMessage',
      })
      expect(h.upstream.received.length).toBe(before)
    })
  }

  it('a target that does not split is recorded as sent, without its query', async () => {
    for (const [target, path] of [
      ['/slack/../admin?x=1', '/slack/../admin'],
      ['http://evil.test/slack/x?y=2', 'http://evil.test/slack/x'],
      ['/', '/'],
    ]) {
      const refused = await raw(badHeader(target as string))
      expect(refused.code, target).toBe('bad_request')
      expect(await rowOf(refused.requestId), target).toMatchObject({
        channel: 'gate',
        code: 'bad_request',
        service: null,
        path,
      })
    }
  })

  it('a secret in the service segment or the path stays out of the row', async () => {
    for (const target of ['/xoxb-parser-rows-secret-1/a', '/slack/xoxb-parser-rows-secret-1']) {
      const refused = await raw(badHeader(target))
      const row = await rowOf(refused.requestId)
      expect(row, target).toMatchObject({ code: 'bad_request' })
      expect(JSON.stringify(row), target).not.toContain('xoxb-parser-rows-secret-1')
    }
  })

  it('a method or version the parser refuses: the row says what was sent, service and path split', async () => {
    for (const [line, method] of [
      ['trace /slack/api/x HTTP/1.1', 'trace'],
      ['TRACK /slack/api/x HTTP/1.1', 'TRACK'],
      ['get /slack/api/x HTTP/1.1', 'get'],
      ['GET /slack/api/x HTTP/1.2', 'GET'],
    ] as const) {
      const before = h.upstream.received.length
      const refused = await raw(`${line}\r\nHost: 127.0.0.1\r\nX-Aegis-Agent: ${agentToken}\r\n\r\n`)
      expect(refused.code, line).toBe('bad_request')
      expect(await rowOf(refused.requestId), line).toMatchObject({
        channel: 'gate',
        decision: 'blocked',
        code: 'bad_request',
        method,
        service: 'slack',
        path: '/api/x',
      })
      expect(h.upstream.received.length).toBe(before)
    }
  })

  it('an unreadable request line is still recorded', async () => {
    const refused = await raw('\x01\x02 nonsense\r\n\r\n')
    expect(refused.code).toBe('bad_request')
    expect(await rowOf(refused.requestId)).toMatchObject({
      channel: 'gate',
      code: 'bad_request',
      method: 'UNKNOWN',
      service: null,
    })
  })

  // The head of these was parsed and handed to the pipeline (with its agent); only the body broke
  // the framing. There used to be two rows: the agent's (an id the client never saw) and an
  // anonymous one named in the answer.
  const brokenBodies = [
    { name: 'an unknown transfer coding', te: 'xchunked', body: '5\r\nhello\r\n0\r\n\r\n' },
    {
      name: 'a chunk extension over the limit',
      te: 'chunked',
      body: `5;${'a'.repeat(100_000)}\r\nhello\r\n0\r\n\r\n`,
    },
  ]
  for (const te of ['xchunked', 'gzip', 'chunked, gzip', 'chunked, chunked']) {
    it(`Transfer-Encoding: ${te} to a service that does not exist: the row is the refusal the agent got`, async () => {
      const refused = await raw(
        `POST /nope/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
          `X-Aegis-Agent: ${agentToken}\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
      )
      expect(refused.code).toBe('bad_request')
      await new Promise((r) => setTimeout(r, 200))
      expect(await rowOf(refused.requestId)).toMatchObject({
        code: 'bad_request',
        service: 'nope',
        status: 400,
      })
    })
  }

  for (const c of brokenBodies) {
    it(`${c.name} in the body: one row, the one the answer names, with the agent`, async () => {
      await h.ledger.flush()
      const rowsBefore = h.ledger.query({ limit: 500 }).length
      const before = h.upstream.received.length
      const refused = await raw(
        `POST /slack/api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Target-Host: api.example.test\r\n` +
          `X-Aegis-Agent: ${agentToken}\r\nTransfer-Encoding: ${c.te}\r\n\r\n${c.body}`,
      )
      expect(refused.code).toBe('bad_request')
      // The request's own handling writes its row once the broken body ends it.
      await new Promise((r) => setTimeout(r, 200))
      await h.ledger.flush()
      const rows = h.ledger.query({ limit: 500 })
      const added = rows.slice(0, rows.length - rowsBefore) // newest first
      expect(added.map((e) => e.requestId)).toEqual([refused.requestId])
      expect(added[0]).toMatchObject({
        agent: 'framer',
        code: 'bad_request',
        service: 'slack',
        path: '/api/x',
      })
      expect(h.upstream.received.length).toBe(before)
    })
  }
})
