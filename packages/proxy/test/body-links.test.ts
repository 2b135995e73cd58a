import { request } from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { send, streamInTwo } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * A next-page URL in a JSON body (Microsoft Graph's `@odata.nextLink`, Zendesk's `next_page`) names
 * the upstream: the gate rebases it onto itself, as it does the `Link` header, so an SDK paging
 * through it stays behind the gate. Only a whole value under a page-link key changes; text quoting
 * the URL, other keys and other hosts reach the agent byte for byte, in every path an answer takes
 * (small and whole, chunked, large, compressed).
 */
const SECRET = 'graph-vault-secret-0123456789abcdef'
let h: Harness
let gate: string

const UPSTREAM = 'https://api.example.test'

/** A page as Microsoft Graph writes it, with a comment that quotes a URL on the upstream. */
function page(n: number): string {
  return JSON.stringify({
    '@odata.context': `${UPSTREAM}/v1.0/$metadata#users`,
    value: [
      { id: String(n), note: `see ${UPSTREAM}/v1.0/users?$skiptoken=${n + 1}`, web: 'https://other.test/x' },
    ],
    '@odata.nextLink': `${UPSTREAM}/script/users?$top=1&$filter=startswith(name,'a%2Fb')&$skiptoken=${n + 1}`,
  })
}

/** What the agent must get for `page(n)`: the next link alone rebased. */
function expected(n: number): string {
  return page(n).replace(`"@odata.nextLink":"${UPSTREAM}`, `"@odata.nextLink":"${gate}`)
}

/** An upstream answer written raw: its head, then each body chunk a moment apart. */
function raw(head: string[], chunks: Array<string | Buffer>): (socket: Socket) => Promise<void> {
  return async (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\n${head.map((l) => `${l}\r\n`).join('')}Connection: close\r\n\r\n`)
    for (const chunk of chunks) {
      socket.write(chunk)
      await sleep(15)
    }
    socket.end()
  }
}

/** The body in HTTP/1.1 chunks, cut at the given offsets (inside the link, inside its key). */
function chunked(body: string, cuts: number[]): string[] {
  const pieces: string[] = []
  let at = 0
  for (const cut of [...cuts, body.length]) {
    const piece = body.slice(at, cut)
    pieces.push(`${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`)
    at = cut
  }
  return [...pieces, '0\r\n\r\n']
}

async function ledgerRow(path: string) {
  await vi.waitFor(async () => {
    await h.ledger.flush()
    const row = h.ledger.query({ limit: 100 }).find((e) => e.path === path)
    expect(row?.durationMs).not.toBeNull()
  })
  return h.ledger.query({ limit: 100 }).find((e) => e.path === path)
}

beforeAll(async () => {
  h = await startHarness({ gate: { limits: { requestTimeout: 1500 } } })
  gate = `http://127.0.0.1:${h.port}/graph`
  h.add({
    name: 'graph',
    service: 'graph',
    secret: SECRET,
    domains: ['api.example.test', 'alt.example.test'],
  })
  const json = 'Content-Type: application/json;odata.metadata=minimal;charset=utf-8'
  const small = page(1)
  h.upstream.scripts.set('small', raw([json, `Content-Length: ${Buffer.byteLength(small)}`], [small]))
  const body = page(2)
  const link = body.indexOf('@odata.nextLink')
  h.upstream.scripts.set(
    'chunked',
    raw([json, 'Transfer-Encoding: chunked'], chunked(body, [link + 5, link + 30, link + 40])),
  )
  const big = page(3).replace('"value":[', `"value":[{"pad":"${'x'.repeat(70_000)}"},`)
  h.upstream.scripts.set(
    'big',
    raw([json, `Content-Length: ${big.length}`], [big.slice(0, 40_000), big.slice(40_000)]),
  )
  const gzipped = gzipSync(page(4))
  h.upstream.scripts.set(
    'gzipped',
    raw([json, 'Content-Encoding: gzip', `Content-Length: ${gzipped.length}`], [gzipped]),
  )
  // A chunked answer whose second half waits for the agent to have read the first.
  h.upstream.scripts.set('held', async (socket) => {
    const gone = new Promise<void>((resolve) => {
      release = resolve
    })
    const first = `{"@odata.nextLink":"${UPSTREAM}/script/users?$skiptoken=2","value":[`
    socket.write(`HTTP/1.1 200 OK\r\n${json}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`)
    socket.write(`${first.length.toString(16)}\r\n${first}\r\n`)
    await gone
    socket.end('2\r\n]}\r\n0\r\n\r\n')
  })
  // A chunked answer that stalls past the deadline after its first part.
  h.upstream.scripts.set('stalls', async (socket) => {
    const first = `{"next":"${UPSTREAM}/script/users?page=2","value":[`
    socket.write(`HTTP/1.1 200 OK\r\n${json}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`)
    socket.write(`${first.length.toString(16)}\r\n${first}\r\n`)
    await sleep(3000)
    socket.destroy()
  })
  // A chunked answer that never ends unless the gate hangs up on it.
  h.upstream.scripts.set('endless', async (socket) => {
    const first = `{"next":"${UPSTREAM}/script/users?page=2","value":[`
    socket.write(`HTTP/1.1 200 OK\r\n${json}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`)
    socket.write(`${first.length.toString(16)}\r\n${first}\r\n`)
    await new Promise<void>((resolve) => {
      socket.once('close', () => {
        upstreamHungUp = true
        resolve()
      })
      setTimeout(resolve, 5000).unref()
    })
  })
  const text = `next: ${UPSTREAM}/x`
  h.upstream.scripts.set('text', raw(['Content-Type: text/plain', `Content-Length: ${text.length}`], [text]))
  // HAL with the credential echoed back in a link: redacted, and the link still rebased.
  h.upstream.scripts.set('echo', async (socket, received) => {
    const echoed = JSON.stringify({
      _links: {
        next: {
          href: `${UPSTREAM}/script/users?key=${String(received.headers.authorization).slice('Bearer '.length)}`,
        },
      },
    })
    await raw(['Content-Type: application/hal+json', `Content-Length: ${echoed.length}`], [echoed])(socket)
  })
})
afterAll(() => h?.close())

/** Whether the gate closed the `endless` answer's upstream connection. */
let upstreamHungUp = false

/** Lets the `held` answer send its second half. */
let release: () => void = () => undefined

describe('page links in a JSON body', () => {
  it('a small answer: only the whole @odata.nextLink value is rebased; Content-Length and the ledger match what the agent got', async () => {
    const reply = await send(h.port, '/graph/script/small')
    expect(reply.status).toBe(200)
    expect(reply.text).toBe(expected(1))
    expect(reply.json()['@odata.nextLink']).toBe(
      `${gate}/script/users?$top=1&$filter=startswith(name,'a%2Fb')&$skiptoken=2`,
    )
    expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.text))
    const row = await ledgerRow('/script/small')
    expect(row).toMatchObject({ decision: 'allowed', status: 200, bytesOut: Buffer.byteLength(reply.text) })
  })

  it('a chunked answer, the link and its key cut across chunks: rebased as it streams', async () => {
    const reply = await send(h.port, '/graph/script/chunked')
    expect(reply.text).toBe(expected(2))
    expect(reply.headers['content-length']).toBeUndefined()
    const row = await ledgerRow('/script/chunked')
    expect(row?.bytesOut).toBe(Buffer.byteLength(reply.text))
  })

  it('a streamed answer stays streamed: the rebased first part arrives before the upstream sends the rest', async () => {
    const reply = await streamInTwo(h.port, '/graph/script/held', () => release())
    expect(reply.first).toBe(`{"@odata.nextLink":"${gate}/script/users?$skiptoken=2","value":[`)
    expect(await reply.rest).toBe(']}')
  })

  it('an upstream that stalls mid-answer: the ledger says so and counts the rebased bytes the agent got', async () => {
    const reply = await streamInTwo(h.port, '/graph/script/stalls', () => undefined)
    expect(reply.first).toBe(`{"next":"${gate}/script/users?page=2","value":[`)
    await reply.rest.catch(() => undefined)
    const row = await ledgerRow('/script/stalls')
    expect(row).toMatchObject({
      decision: 'failed',
      code: 'upstream_timeout',
      bytesOut: Buffer.byteLength(reply.first),
    })
  })

  it('an agent that hangs up mid-answer: the upstream request is aborted and the row says client_closed', async () => {
    const hangUp = new AbortController()
    const reply = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: h.port, path: '/graph/script/endless', signal: hangUp.signal },
        (res) => {
          res.once('data', (first: Buffer) => resolve(first.toString()))
          res.on('error', () => undefined)
        },
      )
      req.on('error', () => undefined)
      req.once('error', reject)
      req.end()
    })
    expect(reply).toBe(`{"next":"${gate}/script/users?page=2","value":[`)
    hangUp.abort()
    await vi.waitFor(() => expect(upstreamHungUp).toBe(true))
    const row = await ledgerRow('/script/endless')
    expect(row).toMatchObject({
      decision: 'failed',
      code: 'client_closed',
      bytesOut: Buffer.byteLength(reply),
    })
  })

  it('a large answer (streamed, past the buffered size) and a gzip one (decoded on the way) are rebased too', async () => {
    const big = await send(h.port, '/graph/script/big')
    expect(big.json()['@odata.nextLink']).toBe(
      `${gate}/script/users?$top=1&$filter=startswith(name,'a%2Fb')&$skiptoken=4`,
    )
    expect(big.text.length).toBe(page(3).length + 70_011 - UPSTREAM.length + gate.length)
    const gzipped = await send(h.port, '/graph/script/gzipped')
    expect(gzipped.headers['content-encoding']).toBeUndefined()
    expect(gzipped.text).toBe(expected(4))
  })

  it('following the rebased link goes through the gate, with the credential injected, query as written', async () => {
    const first = await send(h.port, '/graph/script/small')
    const next = String(first.json()['@odata.nextLink'])
    expect(new URL(next).host).toBe(`127.0.0.1:${h.port}`)
    const before = h.upstream.received.length
    await send(h.port, next.slice(`http://127.0.0.1:${h.port}`.length))
    expect(h.upstream.received.length).toBe(before + 1)
    const got = h.upstream.received.at(-1)
    expect(got?.url).toBe("/script/users?$top=1&$filter=startswith(name,'a%2Fb')&$skiptoken=2")
    expect(got?.headers.authorization).toBe(`Bearer ${SECRET}`)
  })

  it('a link that echoes the credential is redacted and still rebased', async () => {
    const reply = await send(h.port, '/graph/script/echo')
    expect(reply.text).not.toContain(SECRET)
    expect((reply.json() as { _links: { next: { href: string } } })._links.next.href).toBe(
      `${gate}/script/users?key=[REDACTED]`,
    )
  })

  it('leaves a body that is not JSON, a HEAD answer, and an answer from a host X-Target-Host chose', async () => {
    expect((await send(h.port, '/graph/script/text')).text).toBe(`next: ${UPSTREAM}/x`)
    const head = await send(h.port, '/graph/script/small', { method: 'HEAD' })
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(page(1))))
    const elsewhere = await send(h.port, '/graph/script/small', {
      headers: { 'X-Target-Host': 'alt.example.test' },
    })
    expect(elsewhere.text).toBe(page(1))
  })
})
