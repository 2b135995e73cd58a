/**
 * Who may reach the dashboard, in a real Chromium: the one-time login link, the Host allowlist
 * (DNS rebinding), the Origin check on the WebSocket upgrade, and a viewer's limits.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { connect as tcpConnect } from 'node:net'
import { describe, expect, it } from 'vitest'
import WsClient from 'ws'
import { EVIL_HOST, newPage } from './browser.js'
import { apiGet, openSession, raw, writeHeaders } from './http.js'
import { useDashboard } from './setup.js'
import { byTestId, loginWithUserToken, pageGet, storedKey } from './ui.js'

// The browser's WebSocket, used in page.evaluate (this package is typed for Node only).
declare const localStorage: { removeItem(name: string): void }
declare const WebSocket: new (
  url: string,
  protocols?: string[],
) => { onopen: (() => void) | null; onerror: (() => void) | null; close(): void }

const e2e = useDashboard()

/** Writes `request` as is on a TCP socket and resolves with everything the server sent back. */
function rawHead(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => socket.end(request))
    let got = ''
    socket.setEncoding('latin1').on('data', (d: string) => {
      got += d
    })
    socket.on('end', () => resolve(got))
    socket.on('error', reject)
  })
}

/** Connects with the `ws` client: 'open', or the refusal's HTTP status, or 'error'. */
function connect(
  headers: Record<string, string>,
  protocols: string[] = [],
  path = '/ws',
): Promise<'open' | 'error' | number> {
  return new Promise((resolve) => {
    const socket = new WsClient(`ws://127.0.0.1:${e2e.dash.port}${path}`, protocols, { headers })
    socket.once('open', () => {
      socket.terminate()
      resolve('open')
    })
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      res.resume()
      socket.terminate()
    })
    // A connection dropped without an HTTP answer.
    socket.once('error', () => resolve('error'))
  })
}

/** `{port}` in a table row is the dashboard's port (known once it runs). */
const withPort = (text: string) =>
  text.replaceAll('{port+1}', String(e2e.dash.port + 1)).replaceAll('{port}', String(e2e.dash.port))

describe('the one-time login link', () => {
  it('logs in as the user who started the dashboard, clears the fragment, and fails when used again', async () => {
    const first = await newPage(e2e.browser)
    try {
      await first.page.goto(e2e.dash.loginUrl)
      await first.page.waitForURL((u) => u.pathname === '/', { timeout: 5000 })
      expect(first.page.url()).not.toContain('#t=')
      await expect.poll(() => byTestId(first.page, 'whoami').textContent()).toContain('alice')
      const cookies = await first.context.cookies()
      const session = cookies.find((c) => c.name === 'aegis_session')
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' })
      // The other half of the session: the key, in this origin's localStorage.
      expect(await storedKey(first.page)).toMatch(/^[A-Za-z0-9_-]{43}$/)
      const me = await pageGet(first.page, `${e2e.dash.url}/api/me`)
      expect(me.status).toBe(200)
      expect(me.body).toMatchObject({ actor: { kind: 'user', name: 'alice', role: 'admin' } })
      // The browser's cookie without the key is no session.
      expect((await first.page.request.get(`${e2e.dash.url}/api/me`)).status()).toBe(401)
    } finally {
      await first.context.close()
    }

    const again = await newPage(e2e.browser)
    try {
      await again.page.goto(e2e.dash.loginUrl)
      await expect
        .poll(() => byTestId(again.page, 'login-status').textContent(), { timeout: 5000 })
        .toBe('This login link has expired or was already used')
      expect(new URL(again.page.url()).pathname).toBe('/login')
      expect((await again.context.cookies()).some((c) => c.name === 'aegis_session')).toBe(false)
      expect(await storedKey(again.page)).toBeNull()
      const me = await again.page.request.get(`${e2e.dash.url}/api/me`)
      expect(me.status()).toBe(401)
    } finally {
      await again.context.close()
    }

    // The same through the API: the token is consumed, whoever presents it next.
    const token = new URL(e2e.dash.loginUrl).hash.slice('#t='.length)
    const reused = await raw(e2e.dash.port, {
      method: 'POST',
      path: '/api/session',
      headers: writeHeaders(e2e.dash.port),
      body: JSON.stringify({ token }),
    })
    expect(reused.status).toBe(401)
    expect(JSON.parse(reused.body)).toEqual({
      error: { code: 'invalid_token', message: 'This login link has expired or was already used' },
    })
    expect(reused.headers['set-cookie']).toBeUndefined()
  })

  it('refuses a wrong user token on the form with "Invalid user token"', async () => {
    const { context, page } = await newPage(e2e.browser)
    try {
      await page.goto(`${e2e.dash.url}/login`)
      await byTestId(page, 'login-token-input').fill(`${e2e.dash.users.viewer}x`)
      await byTestId(page, 'login-submit').click()
      await expect.poll(() => byTestId(page, 'login-status').textContent()).toContain('Invalid user token')
      expect((await context.cookies()).some((c) => c.name === 'aegis_session')).toBe(false)
    } finally {
      await context.close()
    }
  })
})

describe('the Host allowlist (DNS rebinding)', () => {
  const FOREIGN = [
    `${EVIL_HOST}:{port}`,
    EVIL_HOST,
    `127.0.0.1.${EVIL_HOST}:{port}`,
    `localhost.${EVIL_HOST}:{port}`,
    `${EVIL_HOST}.:{port}`,
    // Not IP literals a browser sends (any real IP address is accepted: rebinding needs a name).
    `0x7f000001:{port}`,
    `a..localhost:{port}`,
    `localhost@${EVIL_HOST}:{port}`,
    '',
  ]
  const PATHS = [
    '/',
    '/login',
    '/feed',
    '/index.html',
    '/api/me',
    '/api/requests',
    '/api/users',
    '/ws',
    '/no-such-file.js',
  ]

  it.each(FOREIGN)(
    'Host %j gets 403 "Forbidden host" on every path, even with a valid session',
    async (host) => {
      const session = await openSession(e2e.dash.port, e2e.dash.users.admin)
      for (const path of PATHS) {
        const reply = await raw(e2e.dash.port, {
          path,
          headers: { Host: withPort(host), ...session.headers },
        })
        expect({ path, status: reply.status, body: reply.body }).toEqual({
          path,
          status: 403,
          body: 'Forbidden host',
        })
        expect(reply.headers['content-type']).toMatch(/^text\/plain/)
        expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
      }
      const write = await raw(e2e.dash.port, {
        method: 'DELETE',
        path: '/api/session',
        headers: { ...writeHeaders(e2e.dash.port), Host: withPort(host), ...session.headers },
      })
      expect(write.status).toBe(403)
    },
  )

  it('a request without a Host header gets 403 too (HTTP/1.0 may omit it; 1.1 must not)', async () => {
    for (const path of ['/', '/login', '/api/me']) {
      for (const version of ['1.0', '1.1']) {
        const head = await rawHead(e2e.dash.port, `GET ${path} HTTP/${version}\r\nConnection: close\r\n\r\n`)
        expect({ path, version, status: head.split('\r\n')[0] }).toEqual({
          path,
          version,
          status: 'HTTP/1.1 403 Forbidden',
        })
        expect(head.endsWith('\r\n\r\nForbidden host')).toBe(true)
      }
    }
  })

  it.each(['127.0.0.1:{port}', 'localhost:{port}', 'dash.localhost:{port}', '[::1]:{port}'])(
    'Host %j (a loopback name) is served',
    async (host) => {
      const reply = await raw(e2e.dash.port, { path: '/login', headers: { Host: withPort(host) } })
      expect(reply.status).toBe(200)
      expect(reply.headers['content-type']).toMatch(/^text\/html/)
    },
  )

  it('refuses a browser that reaches 127.0.0.1 under a foreign name', async () => {
    const { context, page } = await newPage(e2e.browser)
    try {
      for (const path of ['/', '/login', '/api/me']) {
        const response = await page.goto(`http://${EVIL_HOST}:${e2e.dash.port}${path}`)
        expect(response?.status()).toBe(403)
        expect(await page.textContent('body')).toBe('Forbidden host')
      }
      // Script on the rebound page (same origin as far as the browser knows) gets nothing either.
      const fetched = await page.evaluate(async () => {
        const r = await fetch('/api/requests')
        return { status: r.status, text: await r.text() }
      })
      expect(fetched).toEqual({ status: 403, text: 'Forbidden host' })
    } finally {
      await context.close()
    }
  })
})

describe('the WebSocket upgrade', () => {
  it('opens with the session cookie and key and the dashboard Origin (the control case)', async () => {
    const { cookie, protocols } = await openSession(e2e.dash.port, e2e.dash.users.admin)
    expect(await connect({ Cookie: cookie, Origin: `http://127.0.0.1:${e2e.dash.port}` }, protocols)).toBe(
      'open',
    )
    expect(await connect({ Cookie: cookie, Origin: `http://localhost:${e2e.dash.port}` }, protocols)).toBe(
      'open',
    )
  })

  it.each([
    ['a foreign Origin', `http://${EVIL_HOST}`],
    ['a foreign Origin on the right port', `http://${EVIL_HOST}:{port}`],
    ['the loopback on another port', 'http://127.0.0.1:{port+1}'],
    ['https on the right host', `https://127.0.0.1:{port}`],
    ['Origin null', 'null'],
    ['a subdomain trick', `http://127.0.0.1.${EVIL_HOST}:{port}`],
  ])('refuses %s with 403 even with a valid session', async (_label, origin) => {
    const { cookie, protocols } = await openSession(e2e.dash.port, e2e.dash.users.admin)
    expect(await connect({ Cookie: cookie, Origin: withPort(origin) }, protocols)).toBe(403)
  })

  it('refuses a missing Origin, a missing session or key, a foreign Host and another path', async () => {
    const { cookie, protocols } = await openSession(e2e.dash.port, e2e.dash.users.admin)
    const origin = `http://127.0.0.1:${e2e.dash.port}`
    expect(await connect({ Cookie: cookie }, protocols)).toBe(403)
    expect(await connect({ Origin: origin }, protocols)).toBe(403)
    expect(await connect({ Cookie: 'aegis_session=forged', Origin: origin }, protocols)).toBe(403)
    expect(await connect({ Cookie: cookie, Origin: origin })).toBe(403)
    expect(await connect({ Cookie: cookie, Origin: origin }, ['aegis.v1'])).toBe(403)
    expect(
      await connect({ Cookie: cookie, Origin: origin, Host: `${EVIL_HOST}:${e2e.dash.port}` }, protocols),
    ).toBe(403)
    for (const path of ['/ws/', '/wss', '/api/ws', '/']) {
      expect(await connect({ Cookie: cookie, Origin: origin }, protocols, path), path).not.toBe('open')
    }
    // A viewer holds ledger:read, so the feed is open to it too.
    const viewer = await openSession(e2e.dash.port, e2e.dash.users.viewer)
    expect(await connect({ Cookie: viewer.cookie, Origin: origin }, viewer.protocols)).toBe('open')
    // Each session's cookie opens the feed only with its own key.
    expect(await connect({ Cookie: viewer.cookie, Origin: origin }, protocols)).toBe(403)
  })

  it('does not open from pages on a foreign origin in the browser', async () => {
    // An attacker's own page (served on evil.test) next to a logged-in dashboard in the same browser.
    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>attacker</title>')
    })
    attacker.listen(0, '127.0.0.1')
    await once(attacker, 'listening')
    const attackerPort = (attacker.address() as { port: number }).port
    const { context, page } = await newPage(e2e.browser)
    try {
      await loginWithUserToken(page, e2e.dash.url, e2e.dash.users.admin)
      // The attacker pages are given the key too: what refuses them here is their Origin.
      const protocols = ['aegis.v1', `aegis-key.${await storedKey(page)}`]
      const tryOpen = (url: string) =>
        page.evaluate(
          ([target, offered]) =>
            new Promise<string>((resolve) => {
              const socket = new WebSocket(target, offered)
              socket.onopen = () => {
                socket.close()
                resolve('open')
              }
              socket.onerror = () => resolve('refused')
              setTimeout(() => resolve('timeout'), 3000)
            }),
          [url, protocols] as const,
        )
      // Control: the dashboard's own page may open it.
      expect(await tryOpen(`ws://127.0.0.1:${e2e.dash.port}/ws`)).toBe('open')

      // Cross-site WebSocket hijacking: the browser sends Origin http://evil.test:<port>.
      await page.goto(`http://${EVIL_HOST}:${attackerPort}/`)
      expect(await tryOpen(`ws://127.0.0.1:${e2e.dash.port}/ws`)).toBe('refused')
      // DNS rebinding: the attacker's name now points at the dashboard (Host: evil.test).
      await page.goto(`http://${EVIL_HOST}:${e2e.dash.port}/`)
      expect(await tryOpen(`ws://${EVIL_HOST}:${e2e.dash.port}/ws`)).toBe('refused')
    } finally {
      await context.close()
      attacker.close()
    }
  })
})

describe('a viewer', () => {
  it('sees no Users (nor Agents) in the navigation, gets "forbidden" on /users, and 403 from /api/users', async () => {
    const { context, page } = await newPage(e2e.browser)
    try {
      await loginWithUserToken(page, e2e.dash.url, e2e.dash.users.viewer)
      await expect.poll(() => byTestId(page, 'whoami').textContent()).toContain('vera')
      expect(await byTestId(page, 'whoami').textContent()).toContain('viewer')
      for (const nav of ['nav-overview', 'nav-feed', 'nav-credentials', 'nav-blocked']) {
        expect(await byTestId(page, nav).count(), nav).toBe(1)
      }
      expect(await byTestId(page, 'nav-users').count()).toBe(0)
      expect(await byTestId(page, 'nav-agents').count()).toBe(0)

      await page.goto(`${e2e.dash.url}/users`)
      await byTestId(page, 'forbidden').waitFor({ timeout: 5000 })
      expect(await byTestId(page, 'users-table').count()).toBe(0)
      expect(await page.textContent('body')).not.toContain('oscar')
      for (const path of ['/agents', '/no-such-view']) {
        await page.goto(`${e2e.dash.url}${path}`)
        await byTestId(page, 'forbidden').waitFor({ timeout: 5000 })
        expect(await byTestId(page, 'agents-table').count(), path).toBe(0)
      }

      const users = await pageGet(page, `${e2e.dash.url}/api/users`)
      expect(users.status).toBe(403)
      expect(users.body).toEqual({
        error: { code: 'forbidden', message: expect.stringContaining('viewer may not user:read') },
      })
    } finally {
      await context.close()
    }
  })

  it('gets 403 from every route it lacks the permission for, and none of the write routes work', async () => {
    const viewer = await openSession(e2e.dash.port, e2e.dash.users.viewer)
    const me = await apiGet<{ actor: unknown; permissions: string[] }>(e2e.dash.port, viewer, '/api/me')
    expect(me.body.actor).toEqual({ kind: 'user', name: 'vera', role: 'viewer' })
    expect(me.body.permissions).not.toContain('user:read')
    expect(me.body.permissions).toContain('ledger:read')
    expect((await apiGet(e2e.dash.port, viewer, '/api/users')).status).toBe(403)
    expect((await apiGet(e2e.dash.port, viewer, '/api/agents')).status).toBe(403)
    const writes: [string, string, unknown][] = [
      ['DELETE', '/api/credentials/gh', undefined],
      ['POST', '/api/agents/research-bot/revoke', { credential: 'gh' }],
      ['PUT', '/api/agents/research-bot/rate-limit', { rateLimit: '1/min' }],
      ['DELETE', '/api/agents/research-bot', undefined],
      ['PUT', '/api/users/vera/role', { role: 'admin' }],
      ['DELETE', '/api/users/alice', undefined],
    ]
    for (const [method, path, body] of writes) {
      const reply = await raw(e2e.dash.port, {
        method,
        path,
        headers: { ...writeHeaders(e2e.dash.port), ...viewer.headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      expect({ method, path, status: reply.status }).toEqual({ method, path, status: 403 })
      expect(JSON.parse(reply.body).error.code).toBe('forbidden')
    }
    // Still there: the admin sees every user and the granted credential.
    const admin = await openSession(e2e.dash.port, e2e.dash.users.admin)
    const list = await apiGet<{ items: { name: string; role: string }[] }>(e2e.dash.port, admin, '/api/users')
    expect(list.body.items.map((u) => [u.name, u.role]).sort()).toEqual([
      ['alice', 'admin'],
      ['oscar', 'operator'],
      ['vera', 'viewer'],
    ])
  })
})

describe('logging out', () => {
  it('clears the session: the cookie and the key are gone, and the old pair answers 401', async () => {
    const { context, page } = await newPage(e2e.browser)
    try {
      await loginWithUserToken(page, e2e.dash.url, e2e.dash.users.operator)
      expect((await pageGet(page, `${e2e.dash.url}/api/me`)).status).toBe(200)
      const cookie = (await context.cookies()).find((c) => c.name === 'aegis_session')?.value
      const key = await storedKey(page)
      await byTestId(page, 'logout').click()
      await page.waitForURL((u) => u.pathname === '/login', { timeout: 5000 })
      expect((await context.cookies()).some((c) => c.name === 'aegis_session' && c.value !== '')).toBe(false)
      expect(await storedKey(page)).toBeNull()
      expect((await pageGet(page, `${e2e.dash.url}/api/me`)).status).toBe(401)
      // Ended on the server too: the pair kept from before the logout is refused.
      const old = { Cookie: `aegis_session=${cookie}`, 'X-Aegis-Session': key ?? '' }
      expect((await raw(e2e.dash.port, { path: '/api/me', headers: old })).status).toBe(401)
    } finally {
      await context.close()
    }
  })
})

describe('the session cookie on another port of 127.0.0.1 (a dev server the agent started)', () => {
  it('reaches that server with the browser, and a replay of what it received is refused', async () => {
    // The agent's dev server: it keeps the headers of every request the browser sends it.
    const received: Record<string, string | string[] | undefined>[] = []
    const devServer: Server = createServer((req, res) => {
      received.push({ ...req.headers })
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>dev server</title>')
    })
    devServer.listen(0, '127.0.0.1')
    await once(devServer, 'listening')
    const devPort = (devServer.address() as { port: number }).port
    const { context, page } = await newPage(e2e.browser)
    try {
      await loginWithUserToken(page, e2e.dash.url, e2e.dash.users.admin)
      const cookie = (await context.cookies()).find((c) => c.name === 'aegis_session')?.value
      expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/)
      // The user opens the page the agent asked them to: the browser sends it the dashboard's cookie.
      await page.goto(`http://127.0.0.1:${devPort}/`)
      expect(String(received[0]?.cookie)).toContain(`aegis_session=${cookie}`)
      // The key is not there: localStorage belongs to the dashboard's origin, port included.
      expect(await storedKey(page)).toBeNull()

      // The agent replays exactly what its server saw, with the dashboard's Host (and, for writes
      // and the feed, the dashboard's own Origin, which a non-browser client sets at will).
      const seen: Record<string, string> = {}
      for (const [name, value] of Object.entries(received[0] ?? {})) {
        if (typeof value === 'string' && name !== 'connection') seen[name] = value
      }
      const replay = { ...seen, host: `127.0.0.1:${e2e.dash.port}` }
      for (const path of ['/api/me', '/api/users', '/api/agents', '/api/requests', '/api/credentials']) {
        const reply = await raw(e2e.dash.port, { path, headers: replay })
        expect({ path, status: reply.status, body: JSON.parse(reply.body) }).toEqual({
          path,
          status: 401,
          body: { error: { code: 'unauthenticated', message: 'Not logged in' } },
        })
      }
      const origin = `http://127.0.0.1:${e2e.dash.port}`
      for (const [method, path, body] of [
        ['DELETE', '/api/agents/research-bot', undefined],
        ['PUT', '/api/users/vera/role', { role: 'admin' }],
        ['DELETE', '/api/session', undefined],
      ] as const) {
        const reply = await raw(e2e.dash.port, {
          method,
          path,
          headers: { ...replay, ...writeHeaders(e2e.dash.port) },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
        const expected = path === '/api/session' ? 204 : 401
        expect({ method, path, status: reply.status }).toEqual({ method, path, status: expected })
      }
      expect(await connect({ ...replay, origin })).toBe(403)
      expect(await connect({ ...replay, origin }, ['aegis.v1'])).toBe(403)

      // Nothing happened: the dashboard's own tab is still logged in, the agent and vera unchanged.
      await page.goto(`${e2e.dash.url}/agents`)
      await expect.poll(() => byTestId(page, 'whoami').textContent()).toContain('alice')
      const agents = await pageGet(page, `${e2e.dash.url}/api/agents`)
      expect(agents.status).toBe(200)
      expect((agents.body as { items: { name: string }[] }).items.map((a) => a.name)).toContain(
        'research-bot',
      )
      const users = (await pageGet(page, `${e2e.dash.url}/api/users`)).body as {
        items: { name: string; role: string }[]
      }
      expect(users.items.find((u) => u.name === 'vera')?.role).toBe('viewer')
    } finally {
      await context.close()
      devServer.close()
    }
  })

  it('a reload and a second tab stay logged in (the key is in localStorage); without the key it is the login page', async () => {
    const { context, page } = await newPage(e2e.browser)
    try {
      await loginWithUserToken(page, e2e.dash.url, e2e.dash.users.viewer)
      await expect.poll(() => byTestId(page, 'whoami').textContent()).toContain('vera')
      await page.reload()
      await expect.poll(() => byTestId(page, 'whoami').textContent()).toContain('vera')
      expect(new URL(page.url()).pathname).toBe('/')
      const second = await context.newPage()
      await second.goto(`${e2e.dash.url}/feed`)
      await expect.poll(() => byTestId(second, 'whoami').textContent()).toContain('vera')
      // The feed's socket opened with the key offered as a subprotocol.
      await expect.poll(() => byTestId(second, 'feed-live').textContent(), { timeout: 5000 }).toBe('live')
      // The key gone from storage (the cookie is still there): the next page load is the login page.
      await page.evaluate(() => localStorage.removeItem('aegis.sessionKey'))
      await page.reload()
      await page.waitForURL((u) => u.pathname === '/login', { timeout: 5000 })
      expect((await context.cookies()).some((c) => c.name === 'aegis_session')).toBe(true)
    } finally {
      await context.close()
    }
  })
})
