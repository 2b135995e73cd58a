import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * Links in an answer that name the upstream (GitHub's pagination `Link`, a `Location`) are rebased
 * onto the gate, so a client following them stays behind it: the next page gets the credential and
 * the agent's token never goes to the API itself.
 */
let h: Harness

/** An upstream answer with the given headers, byte for byte. */
function answer(status: string, headers: string[]): (socket: Socket) => void {
  return (socket) => {
    socket.end(
      `HTTP/1.1 ${status}\r\n${headers.map((l) => `${l}\r\n`).join('')}Content-Length: 2\r\nConnection: close\r\n\r\n{}`,
    )
  }
}

beforeAll(async () => {
  h = await startHarness()
  h.add({
    name: 'gh',
    service: 'gh',
    secret: 'ghp_linksSecret0123456789abcdef',
    domains: ['api.example.test', 'alt.example.test'],
  })
  h.upstream.scripts.set(
    'page',
    answer('200 OK', [
      'Link: <https://api.example.test/script/page?page=2>; rel="next", <https://api.example.test/script/page?page=9>; rel="last"',
      'Link: <https://docs.example.test/pagination>; rel="help"',
    ]),
  )
  h.upstream.scripts.set(
    'moved',
    answer('301 Moved Permanently', ['Location: https://API.example.test:443/script/page?from=moved']),
  )
  h.upstream.scripts.set('away', answer('302 Found', ['Location: https://evil.test/steal']))
  h.upstream.scripts.set(
    'created',
    answer('201 Created', ['Location: /repos/o/r', 'Content-Location: /repos/o/r?v=1']),
  )
})
afterAll(() => h?.close())

describe('links in an answer', () => {
  it("rebases GitHub-style pagination onto the gate as the agent addressed it; other hosts' links stay", async () => {
    const reply = await send(h.port, '/gh/script/page')
    expect(reply.status).toBe(200)
    const base = `http://127.0.0.1:${h.port}/gh`
    expect(reply.headers.link).toBe(
      `<${base}/script/page?page=2>; rel="next", <${base}/script/page?page=9>; rel="last", ` +
        '<https://docs.example.test/pagination>; rel="help"',
    )
  })

  it('following the rebased next link goes through the gate, with the credential injected', async () => {
    const first = await send(h.port, '/gh/script/page')
    const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link))?.[1] as string
    const url = new URL(next)
    expect(url.host).toBe(`127.0.0.1:${h.port}`)
    const before = h.upstream.received.length
    const reply = await send(h.port, url.pathname + url.search)
    expect(reply.status).toBe(200)
    const got = h.upstream.received.at(-1)
    expect(h.upstream.received.length).toBe(before + 1)
    expect(got?.url).toBe('/script/page?page=2')
    expect(got?.headers.authorization).toBe('Bearer ghp_linksSecret0123456789abcdef')
  })

  it('rebases a redirect to the upstream (host in any case, default port written); a redirect elsewhere stays', async () => {
    const moved = await send(h.port, '/gh/script/moved')
    expect(moved.status).toBe(301)
    expect(moved.headers.location).toBe(`http://127.0.0.1:${h.port}/gh/script/page?from=moved`)
    const away = await send(h.port, '/gh/script/away')
    expect(away.status).toBe(302)
    expect(away.headers.location).toBe('https://evil.test/steal')
  })

  it('rebases an absolute path in Location and Content-Location under the service', async () => {
    const reply = await send(h.port, '/gh/script/created', { method: 'POST', body: '{}' })
    expect(reply.status).toBe(201)
    expect(reply.headers.location).toBe(`http://127.0.0.1:${h.port}/gh/repos/o/r`)
    expect(reply.headers['content-location']).toBe(`http://127.0.0.1:${h.port}/gh/repos/o/r?v=1`)
  })

  it('uses the Host the agent sent (a name, a port) when it can stand in a URL', async () => {
    const reply = await send(h.port, '/gh/script/moved', { headers: { Host: 'localhost:3100' } })
    expect(reply.headers.location).toBe('http://localhost:3100/gh/script/page?from=moved')
  })

  it('leaves links alone when the answer came from a host X-Target-Host chose (the bare path reaches another)', async () => {
    const reply = await send(h.port, '/gh/script/moved', { headers: { 'X-Target-Host': 'alt.example.test' } })
    expect(reply.status).toBe(301)
    expect(reply.headers.location).toBe('https://API.example.test:443/script/page?from=moved')
  })
})
