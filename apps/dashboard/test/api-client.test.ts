import { describe, expect, it, vi } from 'vitest'
import { ApiError, createApi, queryString } from '../src/api/client.js'

interface Call {
  url: string
  init: RequestInit
}

function fakeFetch(respond: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const call = { url: String(input), init: init ?? {} }
    calls.push(call)
    return respond(call)
  }) as unknown as typeof globalThis.fetch
  return { calls, fetch }
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
const headersOf = (c: Call | undefined) => (c?.init.headers ?? {}) as Record<string, string>

describe('api client: what it sends', () => {
  it('reads with the session cookie and without the CSRF header', async () => {
    const f = fakeFetch(() => json(200, { items: [], hasMore: false }))
    await createApi({ fetch: f.fetch }).requests({ service: 'github', limit: 500, agent: '' })
    expect(f.calls[0]?.url).toBe('/api/requests?service=github&limit=500')
    expect(f.calls[0]?.init.method).toBe('GET')
    expect(f.calls[0]?.init.credentials).toBe('same-origin')
    expect(headersOf(f.calls[0])['X-Aegis-CSRF']).toBeUndefined()
  })

  const writes: [string, (api: ReturnType<typeof createApi>) => Promise<unknown>, string, string, unknown][] =
    [
      ['login', (a) => a.login('tok'), 'POST', '/api/session', { token: 'tok' }],
      ['logout', (a) => a.logout(), 'DELETE', '/api/session', undefined],
      ['remove credential', (a) => a.removeCredential('gh'), 'DELETE', '/api/credentials/gh', undefined],
      [
        'revoke grant',
        (a) => a.revokeGrant('coder', 'gh'),
        'POST',
        '/api/agents/coder/revoke',
        { credential: 'gh' },
      ],
      [
        'rate limit',
        (a) => a.setRateLimit('coder', '10/s'),
        'PUT',
        '/api/agents/coder/rate-limit',
        { rateLimit: '10/s' },
      ],
      [
        'clear rate limit',
        (a) => a.setRateLimit('coder', null),
        'PUT',
        '/api/agents/coder/rate-limit',
        { rateLimit: null },
      ],
      ['remove agent', (a) => a.removeAgent('coder'), 'DELETE', '/api/agents/coder', undefined],
      ['set role', (a) => a.setRole('bob', 'operator'), 'PUT', '/api/users/bob/role', { role: 'operator' }],
      ['remove user', (a) => a.removeUser('bob'), 'DELETE', '/api/users/bob', undefined],
    ]
  it.each(writes)(
    '%s: method, path, CSRF header, same-origin, JSON body',
    async (_n, call, method, path, body) => {
      const f = fakeFetch(() => new Response(null, { status: 204 }))
      await call(createApi({ fetch: f.fetch }))
      const c = f.calls[0]
      expect(c?.init.method).toBe(method)
      expect(c?.url).toBe(path)
      expect(c?.init.credentials).toBe('same-origin')
      expect(headersOf(c)['X-Aegis-CSRF']).toBe('1')
      if (body === undefined) expect(c?.init.body).toBeUndefined()
      else {
        expect(JSON.parse(String(c?.init.body))).toEqual(body)
        expect(headersOf(c)['Content-Type']).toBe('application/json')
      }
    },
  )

  it('encodes names in paths, so a name cannot reach another route', async () => {
    const f = fakeFetch(() => new Response(null, { status: 204 }))
    await createApi({ fetch: f.fetch }).removeUser('../session?x=1#')
    expect(f.calls[0]?.url).toBe('/api/users/..%2Fsession%3Fx%3D1%23')
  })

  it('queryString skips empty values and encodes the rest', () => {
    expect(queryString({ a: 'x y&z', b: '', c: undefined, d: 0 })).toBe('?a=x+y%26z&d=0')
    expect(queryString({})).toBe('')
  })
})

describe('api client: errors', () => {
  it("gives the server's code and message", async () => {
    const f = fakeFetch(() =>
      json(403, { error: { code: 'forbidden', message: 'viewer may not user:read' } }),
    )
    const err = await createApi({ fetch: f.fetch })
      .users()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 403, code: 'forbidden', message: 'viewer may not user:read' })
  })

  it('a 401 anywhere calls onUnauthenticated', async () => {
    const onUnauthenticated = vi.fn()
    const f = fakeFetch(() => json(401, { error: { code: 'unauthenticated', message: 'Log in first' } }))
    await expect(createApi({ fetch: f.fetch, onUnauthenticated }).overview()).rejects.toMatchObject({
      status: 401,
    })
    expect(onUnauthenticated).toHaveBeenCalledTimes(1)
  })

  it('a refused login reports its message and does not bounce to /login', async () => {
    const onUnauthenticated = vi.fn()
    const message = 'This login link has expired or was already used'
    const f = fakeFetch(() => json(401, { error: { code: 'invalid_token', message } }))
    await expect(createApi({ fetch: f.fetch, onUnauthenticated }).login('used')).rejects.toMatchObject({
      code: 'invalid_token',
      message,
    })
    expect(onUnauthenticated).not.toHaveBeenCalled()
  })

  it('a body that is not an error document gives a generic message with the status', async () => {
    const f = fakeFetch(
      () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    )
    await expect(createApi({ fetch: f.fetch }).agents()).rejects.toMatchObject({
      status: 502,
      code: 'http_502',
      message: 'The dashboard server answered 502 Bad Gateway',
    })
  })

  it('a network failure is an ApiError, not a raw TypeError', async () => {
    const f = fakeFetch(() => {
      throw new TypeError('Failed to fetch')
    })
    await expect(createApi({ fetch: f.fetch }).me()).rejects.toMatchObject({ status: 0, code: 'unreachable' })
  })

  it('a 200 that is not JSON is reported', async () => {
    const f = fakeFetch(() => new Response('<!doctype html>', { status: 200 }))
    await expect(createApi({ fetch: f.fetch }).me()).rejects.toMatchObject({ code: 'invalid_response' })
  })
})
