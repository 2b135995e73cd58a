import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './fixtures/harness.js'
import { memoryLogger } from './fixtures/log.js'
import { head, type ScriptedAnswer, throughScript, write } from './fixtures/scripted.js'
import { testPki } from './fixtures/tls.js'
import type { Script } from './fixtures/upstream.js'

// Upstreams that misbehave, written byte for byte on the upstream's socket (`/script/<name>`): what
// the agent gets back, what the ledger row says, and that the gate itself survives.

const SECRET = 'sk-quirk-0123456789abcdefXYZ'
let h: Harness
let token: string
const log = memoryLogger()
/** A plain TCP server where TLS is expected, a TLS one whose certificate names other hosts. */
let plain: Server
let misnamed: TlsServer
let closedPort: number
beforeAll(async () => {
  const answer = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'
  plain = createServer((s) => s.end(answer)).listen(0, '127.0.0.1')
  await once(plain, 'listening')
  const { cert, key } = testPki()
  misnamed = createTlsServer({ cert, key }, (s) => s.end(answer)).listen(0, '127.0.0.1')
  await once(misnamed, 'listening')
  const spare = createServer().listen(0, '127.0.0.1')
  await once(spare, 'listening')
  closedPort = (spare.address() as AddressInfo).port
  await new Promise((r) => spare.close(r))
  const at = (host: string, addressPort: number) => ({ host, port: 443, address: '127.0.0.1', addressPort })
  h = await startHarness({
    // A 16 MiB body limit: a compressed answer then decodes freely to 64 MiB (4 ×), which the
    // 50 MB gzip answer below needs (past that bound it may expand at most 100-fold).
    gate: { logger: log.logger, limits: { maxBodySize: 16 * 1_048_576 } },
    extraResolve: [
      at('plain.test', (plain.address() as AddressInfo).port),
      at('closed.test', closedPort),
      at('wrong.test', (misnamed.address() as AddressInfo).port),
    ],
  })
  h.add({
    name: 'quirk',
    service: 'q',
    secret: SECRET,
    domains: ['api.example.test', 'plain.test', 'closed.test', 'wrong.test'],
  })
  token = h.vault.addAgent({ name: 'quirky' }).token
  h.vault.grant('quirky', 'quirk')
  h.gate.refresh()
})
afterAll(async () => {
  await h.close()
  plain.close()
  misnamed.close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Answer = ScriptedAnswer

/** Sends one GET through the gate to the scripted upstream answer; returns what the agent got. */
const through = (
  name: string,
  script: Script,
  method = 'GET',
  target = 'api.example.test',
): Promise<Answer> => throughScript(h, token, 'q', name, script, method, target)

describe('an upstream that closes the connection while the gate holds its body back', () => {
  it('does not crash the gate (undici asserted in the socket end handler): the answer arrives whole', async () => {
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      // 50 MB of text, gzip-compressed to ~50 KB that arrives at once, then FIN: the decoder is the
      // slow reader, so the parser is paused on the last bytes when the socket ends.
      const size = 50_000_000
      const packed = zlib.gzipSync(Buffer.alloc(size, 'a'))
      const answer = await through('bomb-close', (s) => {
        write(
          s,
          head(['Content-Encoding: gzip', `Content-Length: ${packed.length}`, 'Connection: close']),
          packed,
        )
        s.end()
      })
      await sleep(100)
      expect(uncaught).toEqual([])
      expect(answer.status).toBe(200)
      expect(answer.body.length).toBe(size)
      expect(answer.row).toMatchObject({ decision: 'allowed', status: 200, bytesOut: size })
    } finally {
      process.off('uncaughtException', onUncaught)
    }
  })
})

describe('a compressed answer whose reader pauses the parser again as the connection ends', () => {
  // Stored blocks: the compressed body is as large as its text, so the decoder still holds the last
  // chunks when the socket ends, and the reader asks for a pause again as soon as the parser is
  // resumed. undici then finished a paused parser: the same assertion (caught here, it killed a
  // gate), and an answer that never ended (the agent waited for the body deadline, the row said
  // allowed). A hang fails these tests by their timeout, far below the gate's 30 s deadline.
  const text = Buffer.from(randomBytes(35_000).toString('hex'))
  const codings: [string, (b: Buffer) => Buffer][] = [
    ['deflate', (b) => zlib.deflateRawSync(b, { level: 0 })],
    ['gzip', (b) => zlib.gzipSync(b, { level: 0 })],
    ['br', (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 0 } })],
  ]
  const watchUncaught = () => {
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    return { uncaught, stop: () => process.off('uncaughtException', onUncaught) }
  }

  for (const [coding, pack] of codings) {
    it(`${coding}: a body the close delimits arrives whole, and the row says allowed`, async () => {
      const watch = watchUncaught()
      try {
        const packed = pack(text)
        const answer = await through(`close-delimited-${coding}`, (s) => {
          write(s, head([`Content-Encoding: ${coding}`, 'Connection: close']), packed)
          s.end()
        })
        await sleep(50)
        expect(watch.uncaught).toEqual([])
        expect(answer.status).toBe(200)
        expect(answer.body.equals(text)).toBe(true)
        expect(answer.row).toMatchObject({ decision: 'allowed', status: 200, bytesOut: text.length })
      } finally {
        watch.stop()
      }
    }, 5_000)

    it(`${coding}: a body cut off before its Content-Length ends the answer at once, recorded failed`, async () => {
      const watch = watchUncaught()
      try {
        const packed = pack(text)
        const answer = await through(`cut-off-${coding}`, (s) => {
          const lines = [
            `Content-Encoding: ${coding}`,
            `Content-Length: ${packed.length}`,
            'Connection: close',
          ]
          write(s, head(lines), packed.subarray(0, packed.length >> 1))
          s.end()
        })
        await sleep(50)
        expect(watch.uncaught).toEqual([])
        expect(answer.body.length).toBeLessThan(text.length)
        expect(answer.row).toMatchObject({ decision: 'failed', code: 'upstream_unreachable' })
      } finally {
        watch.stop()
      }
    }, 5_000)
  }
})

/** Every form of the secret an agent could read back from bytes it got. */
function leaks(bytes: Buffer | string): string[] {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('latin1')
  const forms: Record<string, string> = {
    plain: SECRET,
    utf16le: Buffer.from(SECRET, 'utf16le').toString('latin1'),
    utf16be: Buffer.from(SECRET, 'utf16le').swap16().toString('latin1'),
    base64: Buffer.from(SECRET).toString('base64').slice(2, -4),
    'utf8 read as utf16 again': Buffer.from(Buffer.from(SECRET).toString('utf16le'), 'utf8').toString(
      'latin1',
    ),
  }
  return Object.entries(forms)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name)
}

describe('a body in a charset that does not write ASCII as ASCII', () => {
  const json = `{"echo":"${SECRET}","note":"caf\u00e9 \u2603"}`
  const cases: [string, string, () => Buffer, string?][] = [
    ['UTF-16LE, small', 'application/json; charset=utf-16le', () => Buffer.from(json, 'utf16le')],
    [
      'UTF-16BE, quoted label',
      'application/json; charset="UTF-16BE"',
      () => Buffer.from(json, 'utf16le').swap16(),
    ],
    [
      'UTF-16 with a big-endian BOM',
      'text/plain; charset=utf-16',
      () => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(json, 'utf16le').swap16()]),
    ],
    [
      'UTF-16LE, larger than the whole-body limit (streamed)',
      'text/plain; charset=utf-16le',
      () => Buffer.from(`${'p'.repeat(70_000)}${json}`, 'utf16le'),
    ],
    [
      'UTF-16LE, gzip-compressed',
      'application/json; charset=utf-16le',
      () => Buffer.from(json, 'utf16le'),
      'gzip',
    ],
  ]
  for (const [name, type, make, coding] of cases) {
    it(`${name}: transcoded to UTF-8 and redacted, and the row counts it`, async () => {
      const plain = make()
      const sent = coding === 'gzip' ? zlib.gzipSync(plain) : plain
      const extra = coding === undefined ? [] : [`Content-Encoding: ${coding}`]
      const answer = await through('utf16', (s) => {
        write(
          s,
          head([`Content-Type: ${type}`, ...extra, `Content-Length: ${sent.length}`, 'Connection: close']),
          sent,
        )
        s.end()
      })
      expect(answer.status).toBe(200)
      expect(leaks(answer.raw)).toEqual([])
      expect(answer.raw).toMatch(/\r\ncontent-type: [^\r]*charset=utf-8\r\n/i)
      const text = answer.body.toString('utf8')
      expect(text.endsWith(`{"echo":"[REDACTED]","note":"caf\u00e9 \u2603"}`)).toBe(true)
      expect(answer.row).toMatchObject({ decision: 'allowed', status: 200, redactions: 1 })
    })
  }

  it('a UTF-8 body mislabelled UTF-16: the bytes as sent are redacted too (re-encoding gives nothing back)', async () => {
    const sent = Buffer.from(`{"echo":"${SECRET}"}`)
    const answer = await through('mislabelled', (s) => {
      write(
        s,
        head([
          'Content-Type: text/plain; charset=utf-16le',
          `Content-Length: ${sent.length}`,
          'Connection: close',
        ]),
        sent,
      )
      s.end()
    })
    expect(answer.status).toBe(200)
    expect(leaks(Buffer.from(answer.body.toString('utf8'), 'utf16le'))).toEqual([])
    expect(leaks(answer.raw)).toEqual([])
  })

  for (const charset of ['utf-32', 'UTF-32LE', 'utf-7', 'IBM037', 'cp500', 'ebcdic-cp-us']) {
    it(`${charset}: refused with upstream_encoding_unsupported, nothing of the body sent`, async () => {
      const sent = Buffer.from(SECRET)
      const answer = await through('unreadable', (s) => {
        write(
          s,
          head([
            `Content-Type: text/plain; charset=${charset}`,
            `Content-Length: ${sent.length}`,
            'Connection: close',
          ]),
          sent,
        )
        s.end()
      })
      expect(answer.status).toBe(502)
      expect(answer.raw).toMatch(/x-aegis-block: upstream_encoding_unsupported/i)
      expect(leaks(answer.raw)).toEqual([])
      expect(answer.row).toMatchObject({ decision: 'failed', code: 'upstream_encoding_unsupported' })
    })
  }

  it('Latin-1 and UTF-8 bodies keep their bytes, length and charset (an ASCII secret is found as is)', async () => {
    const sent = Buffer.from(`caf\u00e9 ${SECRET}`, 'latin1')
    const answer = await through('latin1', (s) => {
      write(
        s,
        head([
          'Content-Type: text/plain; charset=iso-8859-1',
          `Content-Length: ${sent.length}`,
          'Connection: close',
        ]),
        sent,
      )
      s.end()
    })
    expect(answer.raw).toMatch(/\r\ncontent-type: text\/plain; charset=iso-8859-1\r\n/i)
    expect(answer.raw).toMatch(/\r\ncontent-length: 15\r\n/i)
    expect(answer.body.toString('latin1')).toBe('caf\u00e9 [REDACTED]')
  })
})

describe('a compressed answer', () => {
  const json = Buffer.from(`{"echo":"${SECRET}"}`)
  for (const [name, coding, encode] of [
    ['gzip', 'gzip', zlib.gzipSync],
    ['deflate, zlib format', 'deflate', zlib.deflateSync],
    ['deflate, raw (as some servers send it)', 'deflate', zlib.deflateRawSync],
    ['br', 'br', zlib.brotliCompressSync],
  ] as const) {
    it(`${name}: decoded, redacted, sent plain, the row allowed`, async () => {
      const sent = encode(json)
      const answer = await through('compressed', (s) => {
        write(
          s,
          head([`Content-Encoding: ${coding}`, `Content-Length: ${sent.length}`, 'Connection: close']),
          sent,
        )
        s.end()
      })
      expect(answer.status).toBe(200)
      expect(answer.raw).not.toMatch(/content-encoding/i)
      expect(answer.body.toString()).toBe('{"echo":"[REDACTED]"}')
      expect(answer.row).toMatchObject({ decision: 'allowed', status: 200, redactions: 1 })
    })
  }
})

/** The problem document the agent got (a refusal's body). */
const problem = (answer: Answer) => JSON.parse(answer.body.toString()) as Record<string, unknown>

/** The gate's log line about the request the newest ledger row records. */
function logLine(answer: Answer): Record<string, unknown> | undefined {
  return log.entries().find((e) => e.reqId === answer.row.requestId && e.err !== undefined)
}

describe('an upstream that cannot be connected to', () => {
  for (const [name, target, detail, reason] of [
    [
      'nothing listens at the address',
      'closed.test',
      /^closed\.test could not be reached \(connection refused\)$/,
      /^connect: connection refused$/,
    ],
    [
      'a certificate that does not name the host',
      'wrong.test',
      /^The TLS connection to wrong\.test failed \(certificate not accepted: ERR_TLS_CERT_ALTNAME_INVALID\)$/,
      /^tls: certificate not accepted/,
    ],
    [
      'plain HTTP where TLS is expected',
      'plain.test',
      /^The TLS connection to plain\.test failed \(handshake failed: ERR_SSL_\w+\)$/,
      /^tls: handshake failed/,
    ],
  ] as const) {
    it(`${name}: 502 upstream_unreachable saying why, and the gate lives on (the connect callback threw)`, async () => {
      const uncaught: unknown[] = []
      const onUncaught = (error: unknown) => uncaught.push(error)
      process.on('uncaughtException', onUncaught)
      try {
        const answer = await through('unused', () => undefined, 'GET', target)
        await sleep(50)
        expect(uncaught).toEqual([])
        expect(answer.status).toBe(502)
        expect(problem(answer).code).toBe('upstream_unreachable')
        expect(answer.row).toMatchObject({ decision: 'failed', code: 'upstream_unreachable', status: 502 })
        expect(problem(answer).detail).toMatch(detail)
        expect(logLine(answer)).toMatchObject({
          msg: 'upstream request failed',
          reason: expect.stringMatching(reason),
        })
      } finally {
        process.off('uncaughtException', onUncaught)
      }
    })
  }
})

describe('an upstream whose answer is malformed', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a second, different Content-Length',
      `${head(['Content-Length: 3', 'Content-Length: 4', 'Connection: close'])}abcd`,
      /invalid or conflicting Content-Length/,
    ],
    [
      'Transfer-Encoding beside Content-Length',
      `${head(['Content-Length: 3', 'Transfer-Encoding: chunked', 'Connection: close'])}3\r\nabc\r\n0\r\n\r\n`,
      /invalid or conflicting Content-Length/,
    ],
    [
      'a Content-Length that is no number',
      `${head(['Content-Length: x3'])}abc`,
      /invalid character in Content-Length/,
    ],
    ['a folded header', `${head(['X-A: a', ' b', 'Content-Length: 3'])}abc`, /whitespace after header value/],
    ['bare LF line ends', 'HTTP/1.1 200 OK\nContent-Length: 3\n\nabc', /expected CR after response line/],
    ['a space before the colon', `${head(['Content-Length : 3'])}abc`, /invalid header field char/],
    [
      'a 101 to a request that asked for no upgrade',
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw bytes',
      /unrequested protocol upgrade/,
    ],
    [
      'a body shorter than its Content-Length, then the end',
      `${head(['Content-Length: 10', 'Connection: close'])}abc`,
      /body did not match its Content-Length/,
    ],
  ]
  for (const [name, bytes, what] of cases) {
    it(`${name}: 502 upstream_unreachable, saying the upstream answered with a malformed response`, async () => {
      const answer = await through('malformed', (s) => void s.end(bytes))
      expect(answer.status).toBe(502)
      const detail = String(problem(answer).detail)
      expect(problem(answer).code).toBe('upstream_unreachable')
      expect(detail).toMatch(/^api\.example\.test answered with a malformed response \(/)
      expect(detail).toMatch(what)
      expect(detail).not.toMatch(/could not be reached/)
      expect(answer.row).toMatchObject({ decision: 'failed', code: 'upstream_unreachable', status: 502 })
      expect(logLine(answer)).toMatchObject({
        msg: 'upstream request failed',
        reason: expect.stringMatching(what),
      })
    })
  }

  it('a body cut short after the head went out: the row and the log line say how', async () => {
    // Over the whole-body limit, so the head goes to the agent before the body is complete.
    const answer = await through('cut', (s) => {
      s.write(head(['Content-Type: text/plain', 'Content-Length: 200000', 'Connection: close']))
      s.end(Buffer.alloc(100_000, 'a'))
    })
    expect(answer.status).toBe(200)
    expect(answer.body.length).toBeLessThan(200_000)
    expect(answer.row).toMatchObject({ decision: 'failed', code: 'upstream_unreachable', status: 200 })
    expect(logLine(answer)).toMatchObject({
      msg: 'request forwarded',
      reason: 'malformed: the body did not match its Content-Length',
    })
  })
})

describe('informational (1xx) answers before the final one (RFC 9110 §15.2)', () => {
  // undici 7 destroyed the connection on a `100 Continue` the gate had not asked for: the agent got
  // a 502 where a plain proxy passes the answer on. Every 1xx is now skipped, none reaches the agent.
  const final = (s: import('node:net').Socket, echo: string) => {
    const body = JSON.stringify({ echo })
    s.end(`${head(['Content-Type: application/json', `Content-Length: ${body.length}`])}${body}`)
  }
  for (const [name, informational] of [
    ['a 100 Continue nobody asked for', ['HTTP/1.1 100 Continue\r\n\r\n']],
    ['two of them', ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 100 Continue\r\n\r\n']],
    [
      'a 100, then 103 Early Hints, then a 102, in separate writes',
      [
        'HTTP/1.1 100 Continue\r\n\r\n',
        'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n',
        'HTTP/1.1 102 Processing\r\n\r\n',
      ],
    ],
  ] as const) {
    it(`${name}: the final answer is delivered, redacted, the row allowed; no 1xx reaches the agent`, async () => {
      const answer = await through('informational', async (s, request) => {
        // Each 1xx carries the credential in a header: it must go nowhere.
        for (const line of informational) {
          s.write(line.replace('\r\n\r\n', `\r\nX-Echo: ${String(request.headers.authorization)}\r\n\r\n`))
          await sleep(20)
        }
        final(s, String(request.headers.authorization))
      })
      expect(answer.status).toBe(200)
      expect(answer.raw).toMatch(/^HTTP\/1\.1 200 /)
      expect(answer.raw).not.toMatch(/HTTP\/1\.1 1\d\d /)
      expect(answer.raw).not.toContain(SECRET)
      expect(answer.raw).not.toMatch(/x-echo|link:/i)
      expect(JSON.parse(answer.body.toString())).toEqual({ echo: 'Bearer [REDACTED]' })
      expect(answer.row).toMatchObject({ decision: 'allowed', status: 200 })
    })
  }

  it('the connection the 100 came on is used again, and its next answer is its own', async () => {
    const first = await through(
      'continue-keepalive',
      (s) => void s.write(`HTTP/1.1 100 Continue\r\n\r\n${head(['Content-Length: 5'])}first`),
    )
    expect(first.body.toString()).toBe('first')
    const second = await throughScript(
      h,
      token,
      'q',
      'after-continue',
      (s) => void s.write(`${head(['Content-Length: 5'])}again`),
    )
    expect(second.status).toBe(200)
    expect(second.body.toString()).toBe('again')
  })
})

describe('an upstream that fails without a malformed answer', () => {
  it('closes the connection without answering: said so', async () => {
    const answer = await through('hangup', (s) => void s.end())
    expect(answer.status).toBe(502)
    expect(problem(answer).detail).toBe('api.example.test closed the connection without answering')
    expect(logLine(answer)).toMatchObject({ reason: 'closed: before answering' })
  })

  it('drops the connection mid-answer: the row fails, the log line says so', async () => {
    const answer = await through('reset', (s) => {
      s.write(head(['Content-Type: text/plain', 'Content-Length: 200000']))
      s.write(Buffer.alloc(100_000, 'a'), () => setTimeout(() => s.destroy(), 50))
    })
    expect(answer.status).toBe(200)
    expect(answer.row).toMatchObject({ decision: 'failed', code: 'upstream_unreachable', status: 200 })
    expect(logLine(answer)).toMatchObject({
      reason: 'closed: mid-answer',
    })
  })
})

describe('a response header block over 16 KiB (undici’s default limit)', () => {
  it('up to 64 KiB: forwarded, and a secret in it redacted', async () => {
    const big = `${'c'.repeat(60 * 1024)}; token=${SECRET}`
    const answer = await through(
      'big-header',
      (s) => void s.end(`${head([`Set-Cookie: ${big}`, 'Content-Length: 2', 'Connection: close'])}ok`),
    )
    expect(answer.status).toBe(200)
    expect(answer.body.toString()).toBe('ok')
    expect(answer.raw).toContain(`set-cookie: ${'c'.repeat(60 * 1024)}; token=[REDACTED]\r\n`)
    expect(leaks(answer.raw)).toEqual([])
    expect(answer.row).toMatchObject({ decision: 'allowed', status: 200, redactions: 1 })
  })

  it('over 64 KiB: 502 upstream_unreachable, saying the headers were over the limit', async () => {
    const answer = await through(
      'huge-header',
      (s) =>
        void s.end(
          `${head([`X-Big: ${'b'.repeat(70 * 1024)}`, 'Content-Length: 2', 'Connection: close'])}ok`,
        ),
    )
    expect(answer.status).toBe(502)
    expect(problem(answer)).toMatchObject({
      code: 'upstream_unreachable',
      detail: 'api.example.test answered with response headers over the limit of 65536 bytes',
    })
    expect(answer.row).toMatchObject({ decision: 'failed', code: 'upstream_unreachable' })
    expect(logLine(answer)).toMatchObject({
      reason: 'headers_too_large: response headers over the limit of 65536 bytes',
    })
  })
})

describe('a 204 or 304 that declares a length (and sends bytes after its head)', () => {
  const junk = 'x'.repeat(28)
  it('204 with Content-Length: 28 and 28 bytes: a clean 204 (no Content-Length, no body), the row allowed', async () => {
    const answer = await through(
      'no-content',
      (s) => void s.end(`${head(['Content-Length: 28', 'X-Kept: yes'], '204 No Content')}${junk}`),
    )
    expect(answer.status).toBe(204)
    expect(answer.raw).not.toMatch(/content-length/i)
    expect(answer.raw).toMatch(/\r\nx-kept: yes\r\n/i)
    expect(answer.raw).not.toContain(junk)
    expect(answer.raw.endsWith('\r\n\r\n')).toBe(true)
    expect(answer.row).toMatchObject({ decision: 'allowed', code: null, status: 204, bytesOut: 0 })
  })

  it('304 with Content-Length: 28 and 28 bytes: its Content-Length kept (the representation’s), no body, allowed', async () => {
    const answer = await through(
      'not-modified',
      (s) => void s.end(`${head(['Content-Length: 28', 'ETag: "v1"'], '304 Not Modified')}${junk}`),
    )
    expect(answer.status).toBe(304)
    expect(answer.raw).toMatch(/\r\ncontent-length: 28\r\n/i)
    expect(answer.raw).not.toContain(junk)
    expect(answer.raw.endsWith('\r\n\r\n')).toBe(true)
    expect(answer.row).toMatchObject({ decision: 'allowed', code: null, status: 304, bytesOut: 0 })
  })

  it('a 204 with no bytes after it, and one with Content-Length: 0: the same clean 204', async () => {
    for (const length of ['28', '0']) {
      const answer = await through(
        'no-content',
        (s) => void s.end(head([`Content-Length: ${length}`], '204 No Content')),
      )
      expect(answer.status).toBe(204)
      expect(answer.raw).not.toMatch(/content-length/i)
      expect(answer.row).toMatchObject({ decision: 'allowed', status: 204 })
    }
  })

  it('the keep-alive connection is not reused after the stray bytes: the next answer is its own', async () => {
    await through(
      'no-content',
      (s) => void s.write(`${head(['Content-Length: 28'], '204 No Content')}${junk}`),
    )
    const next = await through(
      'after',
      (s) => void s.end(`${head(['Content-Length: 4', 'Connection: close'])}next`),
    )
    expect(next.status).toBe(200)
    expect(next.body.toString()).toBe('next')
  })
})
