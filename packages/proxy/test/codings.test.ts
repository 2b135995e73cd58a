import { once } from 'node:events'
import { type IncomingMessage, request } from 'node:http'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './fixtures/harness.js'
import { type RawSpec, rawPath } from './fixtures/upstream.js'

const SLACK = 'xoxb-1111-2222-codingsecretvalue'
const GITHUB = 'gh-vault-secret-0123456789abcdef'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
  h.add({ name: 'slack-bot', service: 'slack', secret: SLACK })
  h.add({ name: 'github-bot', service: 'github', secret: GITHUB })
})
afterAll(() => h.close())

interface BytesReply {
  status: number
  headers: IncomingMessage['headers']
  bytes: Buffer
  text: string
}

async function sendBytes(
  path: string,
  init: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<BytesReply> {
  const req = request({
    host: '127.0.0.1',
    port: h.port,
    path,
    method: init.method ?? 'GET',
    headers: init.headers,
    agent: false,
  })
  req.end(init.body)
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  const bytes = Buffer.concat(chunks)
  return { status: res.statusCode ?? 0, headers: res.headers, bytes, text: bytes.toString('latin1') }
}

/** Every way an agent could read the bytes it got: as they are, and undone once or twice. */
function readings(bytes: Buffer): string[] {
  const out = [bytes.toString('latin1')]
  const undo = [gunzipSync, brotliDecompressSync, inflateSync]
  for (const first of undo) {
    let once: Buffer
    try {
      once = first(bytes)
    } catch {
      continue
    }
    out.push(once.toString('latin1'))
    for (const second of undo) {
      try {
        out.push(second(once).toString('latin1'))
      } catch {}
    }
  }
  return out
}

function expectNoSecret(reply: BytesReply, label: string): void {
  for (const text of readings(reply.bytes)) expect(text, label).not.toContain(SLACK)
  expect(JSON.stringify(reply.headers), label).not.toContain(SLACK)
}

const CE = 'Content-Encoding'
const TE = 'Transfer-Encoding'

/** Responses whose body coding the gate cannot undo: a 502 of their own, nothing of the body. */
const REFUSED: [string, RawSpec][] = [
  [
    'two CE lines gzip + gzip',
    {
      headers: [
        [CE, 'gzip'],
        [CE, 'gzip'],
      ],
      encode: ['gzip', 'gzip'],
      frame: 'length',
    },
  ],
  [
    'two CE lines gzip + br',
    {
      headers: [
        [CE, 'gzip'],
        [CE, 'br'],
      ],
      encode: ['gzip', 'br'],
      frame: 'length',
    },
  ],
  [
    'two CE lines br + gzip',
    {
      headers: [
        [CE, 'br'],
        [CE, 'gzip'],
      ],
      encode: ['br', 'gzip'],
      frame: 'length',
    },
  ],
  ['one CE line "gzip, gzip"', { headers: [[CE, 'gzip, gzip']], encode: ['gzip', 'gzip'], frame: 'length' }],
  ['one CE line "gzip, br"', { headers: [[CE, 'gzip, br']], encode: ['gzip', 'br'], frame: 'chunked' }],
  [
    'two CE lines, both named in Connection',
    {
      headers: [
        ['Connection', 'content-encoding'],
        [CE, 'gzip'],
        [CE, 'gzip'],
      ],
      encode: ['gzip', 'gzip'],
      frame: 'length',
    },
  ],
  ['CE zstd (a plain body labelled zstd)', { headers: [[CE, 'zstd']], encode: [], frame: 'length' }],
  [
    'CE zstd named in Connection',
    {
      headers: [
        ['Connection', 'Content-Encoding'],
        [CE, 'zstd'],
      ],
      encode: [],
      frame: 'length',
    },
  ],
  ['CE compress', { headers: [[CE, 'compress']], encode: [], frame: 'length' }],
  ['CE x-compress, chunked', { headers: [[CE, 'x-compress']], encode: [], frame: 'chunked' }],
  [
    'CE identity stacked on zstd',
    {
      headers: [
        [CE, 'identity'],
        [CE, 'zstd'],
      ],
      encode: [],
      frame: 'length',
    },
  ],
  ['TE "gzip, chunked"', { headers: [[TE, 'gzip, chunked']], encode: ['gzip'], frame: 'chunked' }],
  [
    'TE "GZIP , chunked" named in Connection',
    {
      headers: [
        ['Connection', 'transfer-encoding'],
        [TE, 'GZIP , chunked'],
      ],
      encode: ['gzip'],
      frame: 'chunked',
    },
  ],
  [
    'two TE lines gzip + chunked',
    {
      headers: [
        [TE, 'gzip'],
        [TE, 'chunked'],
      ],
      encode: ['gzip'],
      frame: 'chunked',
    },
  ],
  ['TE gzip alone (read to close)', { headers: [[TE, 'gzip']], encode: ['gzip'], frame: 'close' }],
  ['TE "x-unknown, chunked"', { headers: [[TE, 'x-unknown, chunked']], encode: [], frame: 'chunked' }],
  [
    'TE "deflate, chunked" with CE gzip',
    {
      headers: [
        [CE, 'gzip'],
        [TE, 'deflate, chunked'],
      ],
      encode: ['gzip', 'deflate'],
      frame: 'chunked',
    },
  ],
]

/** Responses the gate decodes, redacts and sends uncompressed, however the coding was written. */
const DECODED: [string, RawSpec][] = [
  [
    'CE gzip named in Connection',
    {
      headers: [
        ['Connection', 'content-encoding'],
        [CE, 'gzip'],
      ],
      encode: ['gzip'],
      frame: 'length',
    },
  ],
  [
    'CE br named in Connection, read to close',
    {
      headers: [
        ['Connection', 'keep-alive, Content-Encoding'],
        [CE, 'br'],
      ],
      encode: ['br'],
      frame: 'close',
    },
  ],
  [
    'CE lines identity + gzip',
    {
      headers: [
        [CE, 'identity'],
        [CE, 'gzip'],
      ],
      encode: ['gzip'],
      frame: 'length',
    },
  ],
  [
    'CE lines gzip + identity',
    {
      headers: [
        [CE, 'gzip'],
        [CE, 'identity'],
      ],
      encode: ['gzip'],
      frame: 'length',
    },
  ],
  ['CE "identity, gzip"', { headers: [[CE, 'identity, gzip']], encode: ['gzip'], frame: 'chunked' }],
  ['CE x-gzip', { headers: [[CE, 'x-gzip']], encode: ['gzip'], frame: 'length' }],
  ['CE GZIP', { headers: [[CE, 'GZIP']], encode: ['gzip'], frame: 'length' }],
  [
    'CE " gzip ,, " (whitespace, empty items)',
    { headers: [[CE, ' gzip ,, ']], encode: ['gzip'], frame: 'length' },
  ],
  [
    'CE "," + gzip lines',
    {
      headers: [
        [CE, ','],
        [CE, 'gzip'],
      ],
      encode: ['gzip'],
      frame: 'chunked',
    },
  ],
  ['CE Br', { headers: [[CE, 'Br']], encode: ['br'], frame: 'chunked' }],
  ['CE deflate', { headers: [[CE, 'deflate']], encode: ['deflate'], frame: 'length' }],
  [
    'CE gzip with TE chunked',
    {
      headers: [
        [CE, 'gzip'],
        [TE, 'chunked'],
      ],
      encode: ['gzip'],
      frame: 'chunked',
    },
  ],
  ['TE " Chunked " (whitespace, case)', { headers: [[TE, ' Chunked ']], encode: [], frame: 'chunked' }],
]

describe('response codings are decided from the raw upstream headers', () => {
  for (const [label, spec] of REFUSED) {
    it(`refuses ${label} with upstream_encoding_unsupported`, async () => {
      const reply = await sendBytes(`/slack${rawPath(spec)}`)
      expect(reply.status, label).toBe(502)
      expect(reply.headers['x-aegis-block']).toBe('upstream_encoding_unsupported')
      const problem = JSON.parse(reply.text) as { code: string; detail: string }
      expect(problem.code).toBe('upstream_encoding_unsupported')
      expect(problem.detail).toContain('api.example.test answered')
      expect(problem.detail).not.toContain('could not be reached')
      expectNoSecret(reply, label)
      await h.ledger.flush()
      const entry = h.ledger.query({ limit: 20 }).find((e) => e.requestId === reply.headers['x-request-id'])
      expect(entry).toMatchObject({ decision: 'failed', code: 'upstream_encoding_unsupported', status: 502 })
    })
  }

  for (const [label, spec] of DECODED) {
    it(`decodes and redacts ${label}`, async () => {
      const reply = await sendBytes(`/slack${rawPath(spec)}`)
      expect(reply.status, label).toBe(200)
      expect(reply.headers['content-encoding']).toBeUndefined()
      expect(JSON.parse(reply.text)).toEqual({ echo: 'Bearer [REDACTED]' })
      expectNoSecret(reply, label)
    })
  }

  it('names a registered coding in the detail, and nothing an upstream made up (it may echo a secret)', async () => {
    const zstd = await sendBytes(`/slack${rawPath({ headers: [[CE, 'zstd']], encode: [], frame: 'length' })}`)
    expect(JSON.parse(zstd.text).detail).toContain('"zstd"')
    const private_ = 'upstream-private-7f3a9c'
    for (const made of [private_, `gzip, ${private_}`, `${private_}, chunked`]) {
      for (const name of [CE, TE]) {
        const spec: RawSpec = { headers: [[name, made]], encode: [], frame: name === TE ? 'close' : 'length' }
        const reply = await sendBytes(`/slack${rawPath(spec)}`)
        expect(reply.status, made).toBe(502)
        const detail = JSON.parse(reply.text).detail as string
        expect(detail).toMatch(made === private_ ? /an unknown coding/ : /"gzip"|an unknown coding/)
        expect(reply.text).not.toContain(private_)
      }
    }
  })

  it('asks the upstream for identity only, whatever the agent accepts', async () => {
    const reply = await sendBytes('/slack/echo', { headers: { 'accept-encoding': ['zstd, br', 'gzip'] } })
    expect(reply.status).toBe(200)
    const got = h.upstream.received.at(-1)
    const accept = got?.rawHeaders.filter(
      (_, i, a) => i % 2 === 1 && a[i - 1]?.toLowerCase() === 'accept-encoding',
    )
    expect(accept).toEqual(['identity'])
  })
})

const gzipped = gzipSync(`{"secret":"${GITHUB}"}`)

/** Request codings that must not hide the body: each is decoded and inspected, or refused. */
const REQUEST_FOUND: [string, Record<string, string | string[]>, Buffer][] = [
  ['CE lines identity + gzip', { 'content-encoding': ['identity', 'gzip'] }, gzipped],
  ['CE lines gzip + identity', { 'content-encoding': ['gzip', 'identity'] }, gzipped],
  ['CE "identity, gzip"', { 'content-encoding': 'identity, gzip' }, gzipped],
  ['CE lines "" + gzip', { 'content-encoding': ['', 'gzip'] }, gzipped],
  ['CE "gzip,,"', { 'content-encoding': 'gzip,,' }, gzipped],
  ['CE " GZIP "', { 'content-encoding': ' GZIP ' }, gzipped],
  ['CE x-gzip', { 'content-encoding': 'x-gzip' }, gzipped],
  ['CE br', { 'content-encoding': 'Br' }, brotliCompressSync(`{"secret":"${GITHUB}"}`)],
  ['CE gzip named in Connection', { connection: 'content-encoding', 'content-encoding': 'gzip' }, gzipped],
]

const REQUEST_REFUSED: [string, Record<string, string | string[]>, Buffer, number, string][] = [
  ['CE lines gzip + gzip', { 'content-encoding': ['gzip', 'gzip'] }, gzipSync(gzipped), 403, 'stacked'],
  ['CE "gzip, br"', { 'content-encoding': 'gzip, br' }, brotliCompressSync(gzipped), 403, 'stacked'],
  ['CE lines br + gzip', { 'content-encoding': ['br', 'gzip'] }, gzipped, 403, 'stacked'],
  ['CE zstd', { 'content-encoding': 'zstd' }, Buffer.from(GITHUB), 403, '"zstd" cannot be decoded'],
  [
    'CE compress',
    { 'content-encoding': 'compress' },
    Buffer.from(GITHUB),
    403,
    '"compress" cannot be decoded',
  ],
  ['CE identity + zstd', { 'content-encoding': ['identity', 'zstd'] }, Buffer.from('x'), 403, '"zstd"'],
  ['CE unknown name', { 'content-encoding': 'x-mine' }, Buffer.from('x'), 403, 'unknown coding'],
  ['TE "gzip, chunked"', { 'transfer-encoding': 'gzip, chunked' }, gzipped, 400, 'Transfer-Encoding "gzip"'],
  [
    'TE "x-mine, chunked"',
    { 'transfer-encoding': 'x-mine, chunked' },
    gzipped,
    400,
    'Transfer-Encoding an unknown',
  ],
]

describe('request codings are read from every header value', () => {
  for (const [label, headers, body] of REQUEST_FOUND) {
    it(`inspects the decoded body: ${label}`, async () => {
      const before = h.upstream.received.length
      const reply = await sendBytes('/slack/api/x', { method: 'POST', headers, body })
      expect(reply.status, label).toBe(403)
      expect(reply.headers['x-aegis-block']).toBe('body_inspection')
      expect(JSON.parse(reply.text).detail).toContain('credential')
      expect(h.upstream.received.length).toBe(before)
    })
  }

  for (const [label, headers, body, status, detail] of REQUEST_REFUSED) {
    it(`refuses ${label} (${status})`, async () => {
      const before = h.upstream.received.length
      const reply = await sendBytes('/slack/api/x', { method: 'POST', headers, body })
      expect(reply.status, label).toBe(status)
      expect(JSON.parse(reply.text).detail).toContain(detail)
      expect(h.upstream.received.length).toBe(before)
    })
  }

  it('forwards a clean body under two CE lines exactly as sent (the upstream reads the same list)', async () => {
    const clean = gzipSync('{"text":"hello"}')
    const reply = await sendBytes('/slack/api/x', {
      method: 'POST',
      headers: { 'content-encoding': ['identity', 'gzip'] },
      body: clean,
    })
    expect(reply.status).toBe(200)
    const got = h.upstream.received.at(-1)
    expect(got?.body.equals(clean)).toBe(true)
    expect(got?.headers['content-encoding']).toBe('identity, gzip')
  })
})
