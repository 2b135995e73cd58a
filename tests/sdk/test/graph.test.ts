import { Client, PageIterator } from '@microsoft/microsoft-graph-client'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SECRETS, startWorld, type World } from './fixtures/world.js'

/**
 * Microsoft Graph's own SDK, unchanged, pointed at the gate (its `baseUrl`), paging with
 * `PageIterator`: each next page is the `@odata.nextLink` of the last, an absolute URL in the JSON
 * body. The gate rebases it onto itself, so every page goes through the gate with the vault token,
 * and the agent token never reaches the API. The SDK follows only `https` links, hence the gate
 * served over TLS here.
 */
let w: World
beforeAll(async () => {
  w = await startWorld()
})
afterAll(() => w?.close())

interface User {
  id: string
  aboutMe: string
}

/** The SDK as an agent sets it up: the gate as its base URL, its agent token as the access token. */
function graphClient(): Client {
  // What the agent's machine does for the gate's name and certificate (a hosts entry, a trusted CA).
  const dispatcher = new Agent({
    connect: {
      ca: w.caCert,
      lookup: (_host, options, done) =>
        options.all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4),
    },
  })
  return Client.init({
    baseUrl: `${w.tlsGateUrl}/graph`,
    defaultVersion: 'v1.0',
    // The SDK sends the token only to Graph's hosts and the custom ones named here.
    customHosts: new Set(['gate.example.test']),
    authProvider: (done) => done(null, w.token),
    fetchOptions: { dispatcher } as never,
  })
}

describe('@microsoft/microsoft-graph-client', () => {
  it('PageIterator follows every @odata.nextLink through the gate, each page with the vault token', async () => {
    const client = graphClient()
    const before = w.upstream.received.length
    const first = await client.api('/users').top(2).get()
    const seen: User[] = []
    const iterator = new PageIterator(client, first, (user: User) => {
      seen.push(user)
      return true
    })
    await iterator.iterate()
    expect(seen.map((u) => u.id)).toEqual(['1', '2', '3', '4', '5', '6'])
    // Content that quotes a URL on the API is not a link: it reaches the agent as written.
    expect(seen[0]?.aboutMe).toBe('My profile: https://graph.example.test/v1.0/users/1')

    const pages = w.upstream.received.slice(before)
    expect(pages.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /v1.0/users?$top=2',
      'GET /v1.0/users?$top=2&$skiptoken=p2',
      'GET /v1.0/users?$top=2&$skiptoken=p3',
    ])
    for (const page of pages) {
      expect(page.headers.authorization).toBe(`Bearer ${SECRETS.graph}`)
      expect(JSON.stringify(page)).not.toContain(w.token)
    }
  })
})
