// `aegis dashboard` as a user meets it: the built binary in a temp workspace, real HTTP and WebSocket.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { testPki } from '../../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../../packages/proxy/test/fixtures/upstream.js'
import { addCredential, initProject, type Project, parseJson, removeDir } from '../helpers/run-cli.js'
import { Browser, feedProtocols, http, type Reply, type RunningDashboard, startDashboard } from './helpers.js'

/** Written out, not imported: the login form's refusal names what to do. */
const INVALID_FORM_TOKEN =
  "Invalid user token: this token is no user's token (mistyped, or regenerated or removed since); an admin can issue a new one: aegis user regenerate-token --name <you>"

const SECRET = 'ghp_dashboardSecret_9f8e7d6c5b4a'
const SECURITY = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
}

let project: Project
let upstream: TestUpstream
let dash: RunningDashboard
const tokens: Record<string, string> = {}
let agentToken = ''
/** A session kept for the last tests (logins are rate limited by then). */
let kept: Browser
/** Every HTTP answer and WebSocket message seen, for the secret scan at the end. */
const seen: { what: string; text: string; headers?: Record<string, unknown> }[] = []

function record(what: string, reply: Reply): Reply {
  seen.push({ what, text: reply.body, headers: reply.headers })
  return reply
}

/** Every session cookie value and session key handed out, for the secret scan. */
const sessionIds: string[] = []
const sessionKeys: string[] = []
/** What a login answer is recorded as: the one answer that holds a session key (its own). */
const LOGIN = 'POST /api/session'

class RecordingBrowser extends Browser {
  override async login(token: string): Promise<Reply> {
    const reply = await super.login(token)
    if (reply.status === 200) {
      sessionIds.push(this.cookie.split('=')[1] ?? '')
      sessionKeys.push(this.key)
    }
    return reply
  }
  override async get(path: string): Promise<Reply> {
    return record(`GET ${path}`, await super.get(path))
  }
  override async write(method: string, path: string, body?: unknown): Promise<Reply> {
    return record(`${method} ${path}`, await super.write(method, path, body))
  }
}

async function cli(args: string[], token = tokens.admin): Promise<string> {
  const r = await project.run(args, { env: { AEGIS_USER_TOKEN: token } })
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r.stdout
}

/** Sends a request through the gate (no agent token: authentication is off in this workspace). */
function throughGate(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: dash.gatePort as number,
        path,
        headers: { 'x-target-host': 'api.example.test' },
        agent: false,
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

function openSocket(headers: Record<string, string>, path = '/ws', protocols: string[] = []): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${dash.port}${path}`, protocols, { headers, perMessageDeflate: false })
}

/** The feed socket a logged-in browser opens: its Origin and cookie, its key offered as a subprotocol. */
function openFeed(browser: Browser): WebSocket {
  return openSocket({ origin: browser.origin, cookie: browser.cookie }, '/ws', feedProtocols(browser.key))
}

/** The status a refused upgrade got, or 101 when it opened. */
function upgradeStatus(ws: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate()
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.once('error', (error) => {
      if (!/Unexpected server response/.test(String(error))) reject(error)
    })
  })
}

beforeAll(async () => {
  upstream = await startUpstream()
  project = await initProject()
  const ca = join(project.dir, 'ca.pem')
  writeFileSync(ca, testPki().caCert)
  const configFile = join(project.dir, 'aegis.config.yaml')
  writeFileSync(
    configFile,
    // The dashboard's list, not the gate's (the starter has both).
    readFileSync(configFile, 'utf8').replace(
      /(dashboard:\n(?: {2}.*\n)*? {2}allowed_hosts: )\[\]/,
      '$1[aegis.internal]',
    ),
  )
  await addCredential(
    project,
    ['--name', 'gh', '--service', 'github', '--domains', 'api.example.test'],
    SECRET,
  )
  agentToken = parseJson<{ token: string }>(
    await project.run(['agent', 'add', '--name', 'bot', '--json']),
  ).token
  expect((await project.run(['agent', 'grant', '--agent', 'bot', '--credential', 'gh'])).code).toBe(0)
  tokens.admin = parseJson<{ token: string }>(
    await project.run(['user', 'add', '--name', 'admin', '--role', 'admin', '--json']),
  ).token
  for (const role of ['operator', 'viewer']) {
    tokens[role] = parseJson<{ token: string }>({
      code: 0,
      stderr: '',
      stdout: await cli(['user', 'add', '--name', role, '--role', role, '--json']),
    }).token
  }
  dash = await startDashboard(
    project.dir,
    [
      '--port',
      '0',
      '--gate-port',
      '0',
      '--upstream-ca',
      ca,
      '--resolve',
      `api.example.test:443:127.0.0.1:${upstream.port}`,
    ],
    { ...project.env, AEGIS_USER_TOKEN: tokens.admin as string },
  )
}, 120_000)

afterAll(async () => {
  dash?.child.kill('SIGKILL')
  await upstream?.close()
  if (project) removeDir(project.dir)
})

describe('start', () => {
  it('prints the gate line, then the login line', () => {
    const lines = dash
      .output()
      .split('\n')
      .filter((l) => /^(Aegis gate listening|dashboard: )/.test(l))
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^Aegis gate listening on http:\/\/127\.0\.0\.1:\d+ \(vault "default"\)$/)
    expect(lines[1]).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/login#t=[A-Za-z0-9_-]{43}$/)
  })

  it('refuses a viewer who would start the gate, and names --no-gate', async () => {
    const r = await project.run(['dashboard', '--port', '0', '--gate-port', '0'], {
      env: { AEGIS_USER_TOKEN: tokens.viewer },
    })
    expect([r.code, r.stdout]).toEqual([1, ''])
    expect(r.stderr).toBe(
      'Error: Permission denied: viewer may not gate:start (aegis dashboard --no-gate opens it on a running gate)\n',
    )
  })
})

describe('Host allowlist (DNS rebinding)', () => {
  const paths = [
    '/',
    '/login',
    '/assets/app-placeholder.js',
    '/api/me',
    '/api/overview',
    '/api/session',
    '/ws',
  ]
  it.each([
    ['evil.test', 403],
    ['evil.test:3200', 403],
    ['127.0.0.1.evil.test', 403],
    ['localhost.evil.test', 403],
    [undefined, 403],
    // Any IP address is accepted (the rule of every local server): a DNS-rebinding page needs a name.
    ['[::2]', 200],
    ['aegis.internal.evil.test', 403],
    ['localhost', 200],
    ['127.0.0.1', 200],
    ['[::1]', 200],
    ['dash.localhost', 200],
    ['aegis.internal', 200],
  ])('Host %s → %i on every path, with the security headers', async (name, status) => {
    for (const path of paths) {
      const host = name === undefined ? undefined : `${name}:${dash.port}`
      const reply = record(`host ${name} ${path}`, await http(dash.port, path, { headers: { host } }))
      if (status === 403) {
        expect([path, reply.status, reply.body]).toEqual([path, 403, 'Forbidden host'])
      } else {
        expect(reply.body, path).not.toBe('Forbidden host')
      }
      expect(reply.headers).toMatchObject(SECURITY)
    }
    // A write is refused for the host before its Origin is even looked at.
    const post = await http(dash.port, '/api/session', {
      method: 'POST',
      headers: { host: name, origin: `http://${name}:${dash.port}`, 'x-aegis-csrf': '1' },
      body: '{}',
    })
    if (status === 403) expect([post.status, post.body]).toEqual([403, 'Forbidden host'])
  })
})

describe('CONNECT', () => {
  it('is answered 405 (no forward proxy) instead of a bare hang-up', async () => {
    const socket = connect(dash.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write(`CONNECT evil.test:443 HTTP/1.1\r\nHost: 127.0.0.1:${dash.port}\r\n\r\n`)
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, 1000))])
    socket.destroy()
    const raw = Buffer.concat(chunks).toString('latin1')
    expect(raw).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/)
    expect(raw).toMatch(/\r\nallow: GET, HEAD, POST, PUT, DELETE\r\n/i)
  })
})

describe('Origin and CSRF on every write', () => {
  const good = () => ({ origin: `http://127.0.0.1:${dash.port}`, 'x-aegis-csrf': '1' })
  it.each([
    ['no Origin', { origin: undefined }, 'forbidden_origin'],
    ['Origin null', { origin: 'null' }, 'forbidden_origin'],
    ['a foreign Origin', { origin: 'http://evil.test' }, 'forbidden_origin'],
    ['a rebinding Origin', { origin: () => `http://127.0.0.1.evil.test:${dash.port}` }, 'forbidden_origin'],
    ['the wrong port', { origin: () => `http://127.0.0.1:${dash.port + 1}` }, 'forbidden_origin'],
    ['https', { origin: () => `https://127.0.0.1:${dash.port}` }, 'forbidden_origin'],
    ['no X-Aegis-CSRF', { 'x-aegis-csrf': undefined }, 'csrf_header_missing'],
    ['X-Aegis-CSRF: 0', { 'x-aegis-csrf': '0' }, 'csrf_header_missing'],
  ])('%s → 403 %s, nothing changed', async (_why, change, code) => {
    const admin = new RecordingBrowser(dash.port)
    expect((await admin.login(tokens.admin as string)).status).toBe(200)
    const headers: Record<string, string | undefined> = { ...good(), ...admin.session }
    for (const [k, v] of Object.entries(change)) headers[k] = typeof v === 'function' ? v() : v
    for (const [method, path, body] of [
      ['POST', '/api/session', { token: tokens.admin }],
      ['DELETE', '/api/session', undefined],
      ['DELETE', '/api/credentials/gh', undefined],
      ['DELETE', '/api/agents/bot', undefined],
      ['POST', '/api/agents/bot/revoke', { credential: 'gh' }],
      ['PUT', '/api/users/viewer/role', { role: 'admin' }],
      ['DELETE', '/api/users/viewer', undefined],
      ['POST', '/login', undefined],
    ] as const) {
      const reply = await http(dash.port, path, { method, headers, body: body && JSON.stringify(body) })
      expect([method, path, reply.status, (reply.json() as { error: { code: string } }).error.code]).toEqual([
        method,
        path,
        403,
        code,
      ])
      expect(reply.headers['set-cookie']).toBeUndefined()
    }
    expect((await admin.get('/api/me')).status).toBe(200)
    expect(((await admin.get('/api/credentials')).json() as { items: unknown[] }).items).toHaveLength(1)
    expect(
      ((await admin.get('/api/agents')).json() as { items: { grants: string[] }[] }).items[0]?.grants,
    ).toEqual(['gh'])
    expect(((await admin.get('/api/users')).json() as { items: unknown[] }).items).toHaveLength(3)
  })
})

describe('headers', () => {
  it('no Access-Control-* anywhere; CSP on every response; no-store and JSON on the API', async () => {
    const admin = new RecordingBrowser(dash.port)
    await admin.login(tokens.admin as string)
    for (const path of [
      '/',
      '/feed',
      '/assets/app-placeholder.js',
      '/api/me',
      '/api/overview',
      '/api/requests',
      '/api/nope',
      '/api/users',
    ]) {
      for (const origin of [undefined, 'http://evil.test', `http://127.0.0.1:${dash.port}`]) {
        const reply = await http(dash.port, path, { headers: { ...admin.session, origin } })
        expect(
          Object.keys(reply.headers).filter((h) => h.startsWith('access-control-')),
          path,
        ).toEqual([])
        expect(reply.headers, path).toMatchObject(SECURITY)
        if (path.startsWith('/api/')) {
          expect(reply.headers['cache-control'], path).toBe('no-store')
          expect(reply.headers['content-type'], path).toBe('application/json; charset=utf-8')
        }
      }
    }
    const preflight = await http(dash.port, '/api/users', {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.test', 'access-control-request-method': 'DELETE' },
    })
    expect(preflight.status).toBe(403)
    expect(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
  })
})

describe('a method a path does not serve', () => {
  it('is answered 405 with Allow naming the methods it does serve (RFC 9110 §15.5.6)', async () => {
    const admin = new RecordingBrowser(dash.port)
    expect((await admin.login(tokens.admin as string)).status).toBe(200)
    for (const [method, path, allow] of [
      ['PUT', '/api/session', 'POST, DELETE'],
      ['POST', '/api/me', 'GET'],
      ['POST', '/api/credentials', 'GET, HEAD'],
      ['PUT', '/api/credentials/x', 'DELETE'],
      ['GET', '/api/agents/x/rate-limit', 'PUT'],
    ] as const) {
      const reply = method === 'GET' ? await admin.get(path) : await admin.write(method, path, {})
      expect([method, path, reply.status, reply.headers.allow]).toEqual([method, path, 405, allow])
      expect(reply.json()).toMatchObject({ error: { code: 'method_not_allowed' } })
    }
    // A path no route serves is still a 404, with no Allow.
    const none = await admin.write('PUT', '/api/nothing', {})
    expect([none.status, none.headers.allow]).toEqual([404, undefined])
  })
})

describe('login', () => {
  it('the one-time link logs in once; a second use gets 401 invalid_token', async () => {
    const first = new RecordingBrowser(dash.port)
    const ok = await first.login(dash.token)
    expect(ok.status).toBe(200)
    expect(ok.json()).toEqual({ sessionKey: first.key })
    expect(first.key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(ok.headers['set-cookie']?.[0]).toMatch(
      /^aegis_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/,
    )
    expect((await first.get('/api/me')).json()).toMatchObject({
      actor: { kind: 'user', name: 'admin', role: 'admin' },
    })
    const second = new RecordingBrowser(dash.port)
    const again = await second.login(dash.token)
    expect([again.status, again.json()]).toEqual([
      401,
      { error: { code: 'invalid_token', message: 'This login link has expired or was already used' } },
    ])
    expect(again.headers['set-cookie']).toBeUndefined()
    expect((await second.get('/api/me')).status).toBe(401)
    // Logout ends the session at once.
    expect((await first.write('DELETE', '/api/session')).status).toBe(204)
    expect((await first.get('/api/me')).status).toBe(401)
  })

  it('a user token logs in as that user; each route checks its permission', async () => {
    const viewer = new RecordingBrowser(dash.port)
    expect((await viewer.login(tokens.viewer as string)).status).toBe(200)
    const me = (await viewer.get('/api/me')).json() as { actor: unknown; permissions: string[] }
    expect(me.actor).toEqual({ kind: 'user', name: 'viewer', role: 'viewer' })
    expect(me.permissions).toEqual(['vault:read', 'ledger:read', 'dashboard:view', 'doctor:run'])
    for (const [path, permission] of [
      ['/api/users', 'user:read'],
      ['/api/agents', 'agent:read'],
    ]) {
      const reply = await viewer.get(path as string)
      expect([path, reply.status, reply.json()]).toEqual([
        path,
        403,
        { error: { code: 'forbidden', message: `viewer may not ${permission}` } },
      ])
    }
    for (const path of ['/api/overview', '/api/requests', '/api/blocked', '/api/credentials']) {
      expect([path, (await viewer.get(path)).status]).toEqual([path, 200])
    }
    const remove = await viewer.write('DELETE', '/api/credentials/gh')
    expect([remove.status, remove.json()]).toEqual([
      403,
      { error: { code: 'forbidden', message: 'viewer may not vault:write' } },
    ])
    const role = await viewer.write('PUT', '/api/users/viewer/role', { role: 'admin' })
    expect(role.status).toBe(403)
  })

  it('without a session every API route is 401', async () => {
    for (const path of [
      '/api/me',
      '/api/overview',
      '/api/requests',
      '/api/requests/1',
      '/api/blocked',
      '/api/credentials',
      '/api/agents',
      '/api/users',
      '/api/nope',
    ]) {
      const reply = record(path, await http(dash.port, path, { headers: { cookie: 'aegis_session=forged' } }))
      expect([path, reply.status, (reply.json() as { error: { code: string } }).error.code]).toEqual([
        path,
        401,
        'unauthenticated',
      ])
    }
  })

  it('a user removed (or demoted) while logged in loses access at once; the last admin stays', async () => {
    const operator = new RecordingBrowser(dash.port)
    expect((await operator.login(tokens.operator as string)).status).toBe(200)
    expect((await operator.get('/api/agents')).status).toBe(200)
    const admin = new RecordingBrowser(dash.port)
    await admin.login(tokens.admin as string)
    // Demoted by the CLI in another process: the next call sees it.
    await cli(['user', 'role', '--name', 'operator', '--role', 'viewer'])
    expect((await operator.get('/api/agents')).json()).toEqual({
      error: { code: 'forbidden', message: 'viewer may not agent:read' },
    })
    expect((await admin.write('DELETE', '/api/users/operator')).status).toBe(204)
    expect((await operator.get('/api/me')).status).toBe(401)
    expect((await operator.get('/api/requests')).status).toBe(401)
    const last = await admin.write('DELETE', '/api/users/admin')
    expect([last.status, (last.json() as { error: { code: string } }).error.code]).toEqual([409, 'conflict'])
  })

  it('a bad user token is 401 "Invalid user token"', async () => {
    const reply = await new RecordingBrowser(dash.port).login(`${(tokens.viewer as string).slice(0, -2)}xx`)
    expect([reply.status, reply.json()]).toEqual([
      401,
      { error: { code: 'invalid_token', message: INVALID_FORM_TOKEN } },
    ])
  })
})

describe('a session cookie replayed without its key (a server on another port of 127.0.0.1 gets it)', () => {
  const ROUTES = [
    '/api/me',
    '/api/overview',
    '/api/requests',
    '/api/requests/1',
    '/api/blocked',
    '/api/credentials',
    '/api/agents',
    '/api/users',
    '/api/nope',
  ]
  /** Every API route read, and writes with the dashboard's own Origin and CSRF header (curl sends any). */
  async function refusedEverywhere(headers: Record<string, string | undefined>): Promise<void> {
    for (const path of ROUTES) {
      const reply = record(`GET ${path}`, await http(dash.port, path, { headers }))
      expect([path, reply.status, reply.json()]).toEqual([
        path,
        401,
        { error: { code: 'unauthenticated', message: 'Not logged in' } },
      ])
    }
    const forged = { ...headers, origin: `http://127.0.0.1:${dash.port}`, 'x-aegis-csrf': '1' }
    for (const [method, path, body] of [
      ['DELETE', '/api/credentials/gh', undefined],
      ['POST', '/api/agents/bot/revoke', { credential: 'gh' }],
      ['PUT', '/api/users/viewer/role', { role: 'admin' }],
    ] as const) {
      const reply = record(
        `${method} ${path}`,
        await http(dash.port, path, { method, headers: forged, body: body && JSON.stringify(body) }),
      )
      expect([method, path, reply.status]).toEqual([method, path, 401])
    }
  }

  it('the cookie alone is no session: 401 on every route, 403 on /ws, and it cannot log the owner out', async () => {
    const owner = new RecordingBrowser(dash.port)
    expect((await owner.login(tokens.admin as string)).status).toBe(200)
    // Exactly what the other port's server received from the browser: the cookie, nothing else.
    await refusedEverywhere({ cookie: owner.cookie })
    // The same with an X-Aegis-Session that is not this session's: empty, malformed, guessed.
    for (const key of [
      '',
      'undefined',
      owner.cookie.split('=')[1] as string,
      'A'.repeat(43),
      `${owner.key}x`,
    ]) {
      await refusedEverywhere({ cookie: owner.cookie, 'x-aegis-session': key })
    }
    const origin = `http://127.0.0.1:${dash.port}`
    expect(await upgradeStatus(openSocket({ origin, cookie: owner.cookie }))).toBe(403)
    expect(await upgradeStatus(openSocket({ origin, cookie: owner.cookie }, '/ws', ['aegis.v1']))).toBe(403)
    // A logout with the cookie alone ends nothing.
    const logout = await http(dash.port, '/api/session', {
      method: 'DELETE',
      headers: { cookie: owner.cookie, origin, 'x-aegis-csrf': '1' },
    })
    expect(logout.status).toBe(204)
    // Nothing changed, and the owner (cookie + key) still works.
    expect((await owner.get('/api/me')).status).toBe(200)
    expect(((await owner.get('/api/credentials')).json() as { items: unknown[] }).items).toHaveLength(1)
    expect(await upgradeStatus(openFeed(owner))).toBe(101)
  })

  it('another session’s key with this cookie, or a key without its cookie, is refused; after logout both are dead', async () => {
    const owner = new RecordingBrowser(dash.port)
    expect((await owner.login(tokens.admin as string)).status).toBe(200)
    // The adversary's own session (a viewer), whose key it knows: it does not open the admin's.
    const adversary = new RecordingBrowser(dash.port)
    expect((await adversary.login(tokens.viewer as string)).status).toBe(200)
    await refusedEverywhere({ cookie: owner.cookie, 'x-aegis-session': adversary.key })
    await refusedEverywhere({ 'x-aegis-session': owner.key })
    await refusedEverywhere({ cookie: 'aegis_session=forged', 'x-aegis-session': owner.key })
    const origin = `http://127.0.0.1:${dash.port}`
    expect(
      await upgradeStatus(openSocket({ origin, cookie: owner.cookie }, '/ws', feedProtocols(adversary.key))),
    ).toBe(403)
    expect(await upgradeStatus(openSocket({ origin }, '/ws', feedProtocols(owner.key)))).toBe(403)
    // Each session works with its own pair, as its own user.
    expect(((await owner.get('/api/me')).json() as { actor: { role: string } }).actor.role).toBe('admin')
    expect(((await adversary.get('/api/me')).json() as { actor: { role: string } }).actor.role).toBe('viewer')
    // Logged out (cookie + key): the pair, and each half, are dead.
    const out = await owner.write('DELETE', '/api/session')
    expect(out.status).toBe(204)
    expect(out.headers['set-cookie']?.[0]).toMatch(/^aegis_session=; .*Max-Age=0/)
    await refusedEverywhere(owner.session)
    await refusedEverywhere({ cookie: owner.cookie })
    expect(await upgradeStatus(openFeed(owner))).toBe(403)
    expect((await adversary.get('/api/me')).status).toBe(200)
  })
})

describe('API', () => {
  it('credentials and agents show metadata; writes go through the same library calls as the CLI', async () => {
    const admin = new RecordingBrowser(dash.port)
    await admin.login(tokens.admin as string)
    const creds = (await admin.get('/api/credentials')).json() as { vault: string; items: { name: string }[] }
    expect(creds.vault).toBe('default')
    expect(creds.items.map((c) => c.name)).toEqual(['gh'])
    const limit = await admin.write('PUT', '/api/agents/bot/rate-limit', { rateLimit: '100/min' })
    expect([limit.status, (limit.json() as { rateLimit: string }).rateLimit]).toEqual([200, '100/min'])
    const bad = await admin.write('PUT', '/api/agents/bot/rate-limit', { rateLimit: 'lots' })
    expect([bad.status, (bad.json() as { error: { code: string } }).error.code]).toEqual([
      400,
      'invalid_request',
    ])
    expect((await admin.write('DELETE', '/api/agents/nobody')).status).toBe(404)
    const list = JSON.parse(await cli(['agent', 'list', '--json'])) as { rateLimit: string }[]
    expect(list[0]?.rateLimit).toBe('100/min')
  })

  it('requests: filters validated; unknown parameters refused', async () => {
    const admin = new RecordingBrowser(dash.port)
    await admin.login(tokens.admin as string)
    const limit = 'limit: expected an integer from 1 to 500'
    const id = (name: string) => `${name}: expected an integer of 0 or more`
    for (const [query, message] of [
      ['limit=0', limit],
      ['limit=501', limit],
      ['limit=-5', limit],
      ['limit=x', limit],
      ['limit=2.5', limit],
      ['decision=maybe', 'decision: expected allowed, blocked or failed'],
      ['since=yesterday', 'since: expected 15m, 1h, 7d, a date (YYYY-MM-DD) or an ISO 8601 time'],
      ['after=1&before=2', 'after and before cannot be combined'],
      ['sort=asc', 'Unknown query parameter sort'],
      ['after=-1', id('after')],
      ['before=x', id('before')],
      ['after=99999999999999999', id('after')],
    ]) {
      const reply = await admin.get(`/api/requests?${query}`)
      expect([query, reply.status, reply.json()]).toEqual([
        query,
        400,
        { error: { code: 'invalid_request', message } },
      ])
    }
    expect((await admin.get('/api/requests/999999')).status).toBe(404)
  })
})

describe('live feed', () => {
  let admin: RecordingBrowser
  beforeAll(async () => {
    admin = new RecordingBrowser(dash.port)
    await admin.login(tokens.admin as string)
    kept = admin
  })

  it('refuses the upgrade for a foreign or missing Origin, a bad Host, no or a forged cookie, no or a wrong key, the wrong path', async () => {
    const origin = `http://127.0.0.1:${dash.port}`
    const key = feedProtocols(admin.key)
    const other = new RecordingBrowser(dash.port)
    expect((await other.login(tokens.admin as string)).status).toBe(200)
    const cases: [string, Record<string, string>, string, string[]][] = [
      ['foreign Origin', { origin: 'http://evil.test', cookie: admin.cookie }, '/ws', key],
      ['Origin null', { origin: 'null', cookie: admin.cookie }, '/ws', key],
      ['wrong port', { origin: `http://127.0.0.1:${dash.port + 1}`, cookie: admin.cookie }, '/ws', key],
      ['no Origin', { cookie: admin.cookie }, '/ws', key],
      ['bad Host', { origin, cookie: admin.cookie, host: `evil.test:${dash.port}` }, '/ws', key],
      ['no cookie', { origin }, '/ws', key],
      ['forged cookie', { origin, cookie: 'aegis_session=forged' }, '/ws', key],
      ['no key', { origin, cookie: admin.cookie }, '/ws', []],
      ['only the feed protocol', { origin, cookie: admin.cookie }, '/ws', ['aegis.v1']],
      [
        'the key without the feed protocol',
        { origin, cookie: admin.cookie },
        '/ws',
        [`aegis-key.${admin.key}`],
      ],
      ['another session’s key', { origin, cookie: admin.cookie }, '/ws', feedProtocols(other.key)],
      ['another session’s cookie', { origin, cookie: other.cookie }, '/ws', key],
      ['two keys', { origin, cookie: admin.cookie }, '/ws', [...key, `aegis-key.${other.key}`]],
      ['wrong path', { origin, cookie: admin.cookie }, '/api/ws', key],
      ['another path', { origin, cookie: admin.cookie }, '/ws/x', key],
    ]
    for (const [why, headers, path, protocols] of cases) {
      expect([why, await upgradeStatus(openSocket(headers, path, protocols))]).toEqual([why, 403])
    }
    expect(await upgradeStatus(openFeed(admin))).toBe(101)
    expect(await upgradeStatus(openFeed(other))).toBe(101)
    // The answer selects the feed protocol, never the offer that carries the key.
    const ws = openFeed(admin)
    await new Promise((r) => ws.once('open', r))
    expect(ws.protocol).toBe('aegis.v1')
    ws.terminate()
  })

  it('a request through the gate arrives within 1 s, and again when it completes; after=<id> loses nothing', async () => {
    const ws = openFeed(admin)
    const messages: {
      type: string
      entry: { id: number; path: string; durationMs: number | null; status: number | null }
    }[] = []
    ws.on('message', (data) => {
      seen.push({ what: 'ws', text: String(data) })
      messages.push(JSON.parse(String(data)))
    })
    await new Promise((r) => ws.once('open', r))
    const sent = Date.now()
    const done = throughGate('/github/slow/1500')
    let first: (typeof messages)[number] | undefined
    while (!first && Date.now() - sent < 1000) {
      await new Promise((r) => setTimeout(r, 20))
      first = messages.find((m) => m.entry.path?.endsWith('/slow/1500'))
    }
    expect(first, 'the entry reached the feed within 1 s').toBeDefined()
    expect(first?.type).toBe('entry')
    expect(first?.entry.durationMs).toBeNull()
    expect(await done).toBe(200)
    const id = first?.entry.id as number
    const deadline = Date.now() + 2000
    let completed: (typeof messages)[number] | undefined
    while (!completed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
      completed = messages.find((m) => m.entry.id === id && m.entry.durationMs !== null)
    }
    expect(completed?.entry.status).toBe(200)
    ws.close()

    // While disconnected: three more requests; the reconnecting client pages forward from its last id.
    for (const n of [1, 2, 3]) expect(await throughGate(`/github/missed/${n}`)).toBe(200)
    const page = (await admin.get(`/api/requests?after=${id}&limit=2`)).json() as {
      items: { id: number; path: string }[]
      hasMore: boolean
    }
    expect(page.hasMore).toBe(true)
    const rest = (await admin.get(`/api/requests?after=${page.items.at(-1)?.id}`)).json() as typeof page
    const paths = [...page.items, ...rest.items].map((e) => e.path)
    expect(paths).toEqual(['/missed/1', '/missed/2', '/missed/3'].map((p) => expect.stringContaining(p)))
    const ids = [...page.items, ...rest.items].map((e) => e.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(rest.hasMore).toBe(false)
    const newest = (await admin.get('/api/requests?limit=1')).json() as typeof page
    expect(newest.items[0]?.path).toContain('/missed/3')
  })

  it('a socket outlives neither its session nor its user: logged out or removed, it is closed (1008) and sent nothing more', async () => {
    const watcherToken = parseJson<{ token: string }>({
      code: 0,
      stderr: '',
      stdout: await cli(['user', 'add', '--name', 'watcher', '--role', 'viewer', '--json']),
    }).token
    const leaving = new RecordingBrowser(dash.port)
    expect((await leaving.login(tokens.admin as string)).status).toBe(200)
    const watcher = new RecordingBrowser(dash.port)
    expect((await watcher.login(watcherToken)).status).toBe(200)
    const watch = (browser: Browser) => {
      const ws = openFeed(browser)
      const paths: string[] = []
      ws.on('message', (data) => {
        seen.push({ what: 'ws', text: String(data) })
        paths.push((JSON.parse(String(data)) as { entry: { path: string } }).entry.path)
      })
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
      return { ws, paths, closed, opened: new Promise((r) => ws.once('open', r)) }
    }
    const kept = watch(admin)
    const loggedOut = watch(leaving)
    const removed = watch(watcher)
    await Promise.all([kept.opened, loggedOut.opened, removed.opened])
    expect((await leaving.write('DELETE', '/api/session')).status).toBe(204)
    expect((await admin.write('DELETE', '/api/users/watcher')).status).toBe(204)
    expect(await throughGate('/github/after-the-session')).toBe(200)
    const deadline = Date.now() + 3000
    while (!kept.paths.some((p) => p.endsWith('/after-the-session')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    expect(kept.paths).toContainEqual(expect.stringContaining('/after-the-session'))
    const within = (closed: Promise<number>) =>
      Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open'), 2000))])
    expect([await within(loggedOut.closed), await within(removed.closed)]).toEqual([1008, 1008])
    expect([loggedOut.paths, removed.paths]).toEqual([[], []])
    for (const socket of [kept, loggedOut, removed]) socket.ws.terminate()
  })

  it('a client that stops reading is dropped once over 1 MiB is buffered; others keep receiving', async () => {
    const slow = openFeed(admin)
    const fast = openFeed(admin)
    await Promise.all([new Promise((r) => slow.once('open', r)), new Promise((r) => fast.once('open', r))])
    let slowCount = 0
    let fastCount = 0
    // Only the flood's entries are counted: an earlier test's request completing now is sent too.
    const flood = (data: unknown) => String(data).includes('"path":"/flood/')
    slow.on('message', (data) => {
      if (flood(data)) slowCount++
    })
    fast.on('message', (data) => {
      if (flood(data)) fastCount++
    })
    const slowClosed = new Promise<number>((r) => slow.once('close', (code) => r(code)))
    // The server says when it drops a client (its log, on stderr); the paused client cannot see it yet.
    const dropped = () => dash.output().includes('slow client dropped')
    // The client stops reading: what the server sends piles up in the kernel, then in ws's buffer.
    ;(slow as unknown as { _socket: { pause(): void } })._socket.pause()
    // Batches of one tick's worth (500 entries, ~1.2 MB), each drained by the reading client before
    // the next: it never falls behind, while the paused one only ever gains. Stops once dropped.
    const ledger = openLedger({ file: join(project.dataDir, 'ledger.db') })
    const path = `/flood/${'x'.repeat(2000)}`
    let sent = 0
    try {
      for (let batch = 0; batch < 40 && !dropped(); batch++) {
        await Promise.all(
          Array.from({ length: 500 }, () =>
            ledger.append({
              requestId: `flood-${sent++}`,
              channel: 'gate',
              method: 'GET',
              path,
              decision: 'allowed',
              durationMs: 1,
            }),
          ),
        )
        const deadline = Date.now() + 10_000
        while (fastCount < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
        expect(fastCount).toBe(sent)
      }
    } finally {
      await ledger.close()
    }
    // Dropped well before 40 batches (~48 MB): 1 MiB plus what the kernel buffers on loopback.
    expect(dropped()).toBe(true)
    ;(slow as unknown as { _socket: { resume(): void } })._socket.resume()
    expect(await slowClosed).toBe(1006)
    expect(slowCount).toBeLessThan(sent)
    fast.close()
  }, 60_000)
})

describe('socket cap', () => {
  it('at most 64 feed sockets: the 65th upgrade gets 503; a slot frees when one closes', async () => {
    // Sockets of earlier tests are gone once the server saw their close.
    await new Promise((r) => setTimeout(r, 300))
    const open: WebSocket[] = []
    try {
      for (let i = 0; i < 64; i++) {
        const ws = openFeed(kept)
        await new Promise((resolve, reject) => {
          ws.once('open', resolve)
          ws.once('error', reject)
        })
        open.push(ws)
      }
      const extra = openFeed(kept)
      let retryAfter: string | string[] | undefined
      extra.once('unexpected-response', (_req, res) => {
        retryAfter = res.headers['retry-after']
      })
      expect(await upgradeStatus(extra)).toBe(503)
      expect(retryAfter).toBe('5')
      const first = open.shift() as WebSocket
      first.close()
      await new Promise((r) => first.once('close', r))
      await new Promise((r) => setTimeout(r, 100))
      const again = openFeed(kept)
      expect(await upgradeStatus(again)).toBe(101)
    } finally {
      for (const ws of open) ws.terminate()
    }
  })
})

describe('rate limit', () => {
  it('after 10 failed logins in a minute further failures get 429, but a right token still logs in', async () => {
    const browser = new RecordingBrowser(dash.port)
    // Earlier tests failed twice already (a reused link, a bad user token): at most 10 in all.
    const statuses: number[] = []
    for (let i = 0; i < 11 && statuses.at(-1) !== 429; i++)
      statuses.push((await browser.login(`wrong-${i}`)).status)
    expect(statuses.at(-1)).toBe(429)
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true)
    expect(statuses.length).toBeGreaterThanOrEqual(2)
    expect(statuses.length).toBeLessThanOrEqual(9)
    const limited = await browser.login('wrong-again')
    expect([limited.status, limited.json()]).toEqual([
      429,
      {
        error: { code: 'too_many_attempts', message: 'Too many failed logins: wait a minute and try again' },
      },
    ])
    // When the oldest failure of the minute ages out: within the minute, never 0.
    const retryAfter = Number(limited.headers['retry-after'])
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // Any local process can fail ten times a minute: that must not keep the operator out.
    const operator = new RecordingBrowser(dash.port)
    expect((await operator.login(tokens.admin as string)).status).toBe(200)
    expect((await operator.get('/api/me')).status).toBe(200)
    expect((await browser.write('POST', '/api/session', { token: 42 })).status).toBe(429)
  })
})

describe('secrets', () => {
  it('no API response or feed message holds a secret, token, hash or session id', () => {
    expect(seen.length).toBeGreaterThan(100)
    const needles: [string, string][] = []
    const forms = (name: string, value: string) => {
      needles.push([name, value])
      needles.push([`${name} base64`, Buffer.from(value).toString('base64')])
      needles.push([`${name} base64url`, Buffer.from(value).toString('base64url')])
      needles.push([`${name} hex`, Buffer.from(value).toString('hex')])
    }
    forms('credential secret', SECRET)
    forms('agent token', agentToken)
    for (const [role, token] of Object.entries(tokens)) forms(`${role} user token`, token)
    forms('one-time token', dash.token)
    for (const id of sessionIds) forms('session id', id)
    const keyNeedles: [string, string][] = []
    for (const key of sessionKeys) {
      keyNeedles.push(
        ['session key', key],
        ['session key sha256 hex', createHash('sha256').update(key).digest('hex')],
      )
    }
    // Stored hashes (user and agent tokens are kept as SHA-256) and the hash of a login token.
    for (const [name, token] of [
      ['agent token', agentToken],
      ['one-time token', dash.token],
      ...Object.entries(tokens),
    ]) {
      const digest = createHash('sha256')
        .update(token as string)
        .digest()
      needles.push(
        [`${name} sha256 hex`, digest.toString('hex')],
        [`${name} sha256 base64`, digest.toString('base64')],
      )
    }
    expect(sessionIds.length).toBeGreaterThan(10)
    expect(sessionKeys.length).toBe(sessionIds.length)
    for (const { what, text, headers } of seen) {
      const body = text + JSON.stringify({ ...headers, 'set-cookie': undefined })
      for (const [name, needle] of needles) expect(body.includes(needle), `${name} in ${what}`).toBe(false)
      // A login answers its own key, once; no other answer holds one.
      if (what === LOGIN) continue
      for (const [name, needle] of keyNeedles) expect(body.includes(needle), `${name} in ${what}`).toBe(false)
    }
  })
})

describe('stop', () => {
  it('SIGTERM closes the feed sockets and exits 0', async () => {
    const ws = openFeed(kept)
    await new Promise((r) => ws.once('open', r))
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
    dash.child.kill('SIGTERM')
    expect(await closed).toBe(1001)
    expect(await dash.exited).toBe(0)
    expect(dash.output()).toContain('Aegis dashboard stopped')
  })
})
