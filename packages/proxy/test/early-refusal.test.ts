import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './fixtures/harness.js'

const run = promisify(execFile)
const MIB = 1_048_576
const BIG = 5 * 1_000_000

let h: Harness
let dir: string
let big: string
beforeAll(async () => {
  h = await startHarness({ gate: { limits: { maxBodySize: MIB } } })
  h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-early-refusal-1' })
  h.add({ name: 'reader', service: 'reader', secret: 'reader-early-refusal', scopes: ['read'] })
  h.add({ name: 'streamed', service: 'streamed', secret: 'streamed-early-ref-1', bodyInspection: 'off' })
  dir = mkdtempSync(join(tmpdir(), 'aegis-upload-'))
  big = join(dir, 'big.bin')
  writeFileSync(big, Buffer.alloc(BIG, 'a'))
})
afterAll(async () => {
  await h.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Real curl uploading the 5 MB file: what it printed (the body), the status, the bytes it sent. */
async function curlUpload(
  path: string,
  extra: string[] = [],
): Promise<{ status: number; body: string; uploaded: number }> {
  const { stdout } = await run(
    'curl',
    ['-sS', '-T', big, ...extra, '-w', '\n%{http_code} %{size_upload}', `http://127.0.0.1:${h.port}${path}`],
    { timeout: 20_000 },
  )
  const at = stdout.lastIndexOf('\n')
  const [status, uploaded] = stdout
    .slice(at + 1)
    .split(' ')
    .map(Number)
  return { body: stdout.slice(0, at), status: status ?? 0, uploaded: uploaded ?? -1 }
}

// Every refusal decided before the body was read, one row each; the last two are decided while
// the (chunked, so undeclared) body is read.
const REFUSALS: Array<[string, string, number, string, string[]]> = [
  ['declared size over the limit', '/slack/upload', 413, 'body_too_large', []],
  ['no such service', '/nosuch/upload', 404, 'service_not_found', []],
  ['method outside the scopes', '/reader/upload', 403, 'scope_denied', []],
  ['target not allowlisted', '/slack/upload', 403, 'domain_denied', ['-H', 'X-Target-Host: evil.test']],
  ['path syntax', '/slack/a%2e%2e/../b', 400, 'bad_request', ['--path-as-is']],
  [
    'streamed body passing the limit',
    '/streamed/upload',
    413,
    'body_too_large',
    ['-H', 'Transfer-Encoding: chunked'],
  ],
  [
    'inspected chunked body passing the limit',
    '/slack/upload',
    413,
    'body_too_large',
    ['-H', 'Transfer-Encoding: chunked'],
  ],
]

describe('curl -T of a 5 MB file reads the refusal, not a reset', () => {
  for (const expect100 of [true, false]) {
    for (const [why, path, status, code, extra] of REFUSALS) {
      it(`${why} (${expect100 ? 'with' : 'without'} Expect: 100-continue)`, async () => {
        const before = h.upstream.received.length
        const headers = expect100 ? ['-H', 'Expect: 100-continue'] : ['-H', 'Expect:']
        const reply = await curlUpload(path, [...headers, ...extra])
        expect(reply.status).toBe(status)
        expect(JSON.parse(reply.body)).toMatchObject({ status, code })
        const readingBody = extra.includes('Transfer-Encoding: chunked')
        if (!readingBody) expect(h.upstream.received.length).toBe(before)
        // Refused before the body was read: no `100 Continue`, so curl never sent a byte of it.
        if (expect100 && !readingBody) expect(reply.uploaded).toBe(0)
      })
    }
  }

  it('with Expect: 100-continue and a declared size over the limit, the body is never sent', async () => {
    const socket = connect(h.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write(
      `PUT /slack/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${BIG}\r\nExpect: 100-continue\r\n\r\n`,
    )
    const [first] = (await once(socket, 'data')) as [Buffer]
    expect(first.toString('latin1')).toMatch(/^HTTP\/1\.1 413 /)
    socket.destroy()
  })

  it('an admitted request with Expect: 100-continue still gets its 100 and is forwarded', async () => {
    const before = h.upstream.received.length
    const small = join(dir, 'small.bin')
    writeFileSync(small, Buffer.alloc(2 * 1024, 'b'))
    const { stdout } = await run(
      'curl',
      [
        '-sS',
        '-T',
        small,
        '-H',
        'Expect: 100-continue',
        '-w',
        '\n%{http_code}',
        `http://127.0.0.1:${h.port}/slack/upload`,
      ],
      { timeout: 20_000 },
    )
    expect(stdout.endsWith('\n200')).toBe(true)
    expect(h.upstream.received.at(-1)?.body.length).toBe(2 * 1024)
    expect(h.upstream.received.length).toBe(before + 1)
  })
})

/** Writes the request and its whole body at once, then reads everything the gate answers. */
async function rawUpload(head: string, body: Buffer): Promise<string> {
  const socket = connect(h.port, '127.0.0.1')
  await once(socket, 'connect')
  const chunks: Buffer[] = []
  let error: Error | null = null
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.on('error', (e) => {
    error = e
  })
  socket.write(head)
  socket.write(body)
  socket.end()
  await once(socket, 'close')
  const text = Buffer.concat(chunks).toString('latin1')
  if (text === '' && error !== null) throw error
  return text
}

describe('a client that writes its whole body before reading', () => {
  const rows: Array<[string, string, Buffer]> = [
    [
      'declared length over the limit',
      `POST /slack/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${BIG}\r\n\r\n`,
      Buffer.alloc(BIG, 'a'),
    ],
    [
      'no such service',
      `POST /nosuch/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${BIG}\r\n\r\n`,
      Buffer.alloc(BIG, 'a'),
    ],
    [
      'streamed chunked body passing the limit',
      'POST /streamed/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n',
      Buffer.concat([
        Buffer.from(`${(BIG).toString(16)}\r\n`),
        Buffer.alloc(BIG, 'a'),
        Buffer.from('\r\n0\r\n\r\n'),
      ]),
    ],
    [
      'header block over the limit',
      `POST /slack/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(20_000)}\r\nContent-Length: ${BIG}\r\n\r\n`,
      Buffer.alloc(BIG, 'a'),
    ],
  ]
  for (const [why, head, body] of rows) {
    it(`${why}: reads the whole problem document`, async () => {
      const text = await rawUpload(head, body)
      const [, status] = /^HTTP\/1\.1 (\d{3}) /.exec(text) ?? []
      expect(status).toMatch(/^4\d\d$/)
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1])
      const document = text.slice(text.indexOf('\r\n\r\n') + 4)
      expect(document.length).toBe(length)
      expect(JSON.parse(document)).toMatchObject({ status: Number(status) })
      expect(text).toMatch(/connection: close/i)
    })
  }
})

describe('lingering is bounded', () => {
  for (const [bound, interval, min, max] of [
    ['time (2 s)', 50, 1500, 4000],
    ['bytes (8 MiB)', 1, 0, 1500],
  ] as const) {
    it(`a client that never stops uploading is cut off by the linger ${bound}`, async () => {
      // Keeps writing after the gate's half-close, as a client that does not read would.
      const socket = connect({ port: h.port, host: '127.0.0.1', allowHalfOpen: true })
      await once(socket, 'connect')
      socket.on('error', () => undefined)
      const chunks: Buffer[] = []
      socket.on('data', (c: Buffer) => chunks.push(c))
      socket.write(`POST /slack/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${100 * BIG}\r\n\r\n`)
      const piece = Buffer.alloc(64 * 1024, 'a')
      const started = Date.now()
      const pump = setInterval(() => {
        if (!socket.destroyed) for (let i = 0; i < (interval === 1 ? 8 : 1); i++) socket.write(piece)
      }, interval)
      await new Promise((resolve) => socket.once('close', resolve))
      clearInterval(pump)
      // 64 KiB per 50 ms stays under 8 MiB for 2 s; 512 KiB per ms passes 8 MiB at once.
      const took = Date.now() - started
      expect(took).toBeGreaterThanOrEqual(min)
      expect(took).toBeLessThan(max)
      expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 413 /)
    })
  }
})
