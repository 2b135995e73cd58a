import { describe, expect, it, vi } from 'vitest'
import { ApiError, createApi, queryString } from '../src/api/client.js'
import { type StorageLike, storedSessionKey } from '../src/api/session-key.js'

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

/** A key the server could have answered (43 base64url characters). */
const KEY = 'k'.repeat(43)
const OTHER_KEY = 'o'.repeat(43)

/** localStorage as a Map, so a test sees what the client stored. */
function memoryStorage(initial: Record<string, string> = {}): StorageLike & { items: Map<string, string> } {
  const items = new Map(Object.entries(initial))
  return {
    items,
    getItem: (name) => items.get(name) ?? null,
    setItem: (name, value) => void items.set(name, value),
    removeItem: (name) => void items.delete(name),
  }
}
const withKey = (key = KEY) => memoryStorage({ 'aegis.sessionKey': key })

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

describe('api client: the session key', () => {
  it('sends the stored key as X-Aegis-Session on every call, reads and writes alike', async () => {
    const f = fakeFetch(() => json(200, {}))
    const api = createApi({ fetch: f.fetch, sessionKey: storedSessionKey(withKey()) })
    await api.me()
    await api.setRole('bob', 'viewer')
    expect(f.calls.map((c) => headersOf(c)['X-Aegis-Session'])).toEqual([KEY, KEY])
  })

  it('sends no key when none is stored, or when what is stored is not a key', async () => {
    for (const storage of [memoryStorage(), withKey('not a key'), withKey(`${KEY}x`)]) {
      const f = fakeFetch(() => json(401, { error: { code: 'unauthenticated', message: 'Not logged in' } }))
      const onUnauthenticated = vi.fn()
      await expect(
        createApi({ fetch: f.fetch, onUnauthenticated, sessionKey: storedSessionKey(storage) }).me(),
      ).rejects.toMatchObject({ status: 401 })
      expect(headersOf(f.calls[0])['X-Aegis-Session']).toBeUndefined()
      // No key: the server refuses, and the page goes to /login.
      expect(onUnauthenticated).toHaveBeenCalledTimes(1)
    }
  })

  it('login keeps the key the server answered; the next call sends it', async () => {
    const storage = memoryStorage()
    const f = fakeFetch((c) => (c.init.method === 'POST' ? json(200, { sessionKey: KEY }) : json(200, {})))
    const api = createApi({ fetch: f.fetch, sessionKey: storedSessionKey(storage) })
    await api.login('tok')
    expect(f.calls[0]?.url).toBe('/api/session')
    expect(JSON.parse(String(f.calls[0]?.init.body))).toEqual({ token: 'tok' })
    expect(headersOf(f.calls[0])['X-Aegis-CSRF']).toBe('1')
    expect(storage.items.get('aegis.sessionKey')).toBe(KEY)
    await api.overview()
    expect(headersOf(f.calls[1])['X-Aegis-Session']).toBe(KEY)
    expect(api.feedProtocols()).toEqual(['aegis.v1', `aegis-key.${KEY}`])
  })

  it('a login answered without a key fails, and keeps nothing', async () => {
    const storage = memoryStorage()
    const f = fakeFetch(() => new Response(null, { status: 204 }))
    await expect(
      createApi({ fetch: f.fetch, sessionKey: storedSessionKey(storage) }).login('tok'),
    ).rejects.toMatchObject({ code: 'invalid_response' })
    expect(storage.items.size).toBe(0)
  })

  it('logout sends the key, then forgets it, even when the server could not be reached', async () => {
    for (const respond of [
      () => new Response(null, { status: 204 }),
      () => Promise.reject(new TypeError('x')),
    ]) {
      const storage = withKey()
      const f = fakeFetch(respond)
      const api = createApi({ fetch: f.fetch, sessionKey: storedSessionKey(storage) })
      await api.logout().catch(() => {})
      expect(f.calls[0]?.init.method).toBe('DELETE')
      expect(headersOf(f.calls[0])['X-Aegis-Session']).toBe(KEY)
      expect(storage.items.size).toBe(0)
      expect(api.feedProtocols()).toEqual(['aegis.v1'])
    }
  })

  it('a 401 forgets the key it was sent with, but not one another tab stored since', async () => {
    const storage = withKey()
    const refused = json(401, { error: { code: 'unauthenticated', message: 'Not logged in' } })
    const f = fakeFetch(() => refused.clone())
    const api = createApi({ fetch: f.fetch, sessionKey: storedSessionKey(storage) })
    await api.me().catch(() => {})
    expect(storage.items.size).toBe(0)

    storage.setItem('aegis.sessionKey', KEY)
    const late = fakeFetch(() => {
      // Another tab logged in while this call was on its way.
      storage.setItem('aegis.sessionKey', OTHER_KEY)
      return refused.clone()
    })
    await createApi({ fetch: late.fetch, sessionKey: storedSessionKey(storage) })
      .me()
      .catch(() => {})
    expect(storage.items.get('aegis.sessionKey')).toBe(OTHER_KEY)
  })

  it('storage that throws (disabled) keeps nothing and breaks nothing', async () => {
    const broken: StorageLike = {
      getItem: () => {
        throw new Error('SecurityError')
      },
      setItem: () => {
        throw new Error('SecurityError')
      },
      removeItem: () => {
        throw new Error('SecurityError')
      },
    }
    const keys = storedSessionKey(broken)
    keys.set(KEY)
    keys.clear()
    expect(keys.get()).toBeNull()
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
