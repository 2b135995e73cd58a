// Pure parts of the dashboard server: host and origin checks, token store, sessions, attempts, paths.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FailedAttempts } from '../../src/dashboard/attempts.js'
import { embeddedGateStatus, externalGateStatus } from '../../src/dashboard/gate-status.js'
import { dashboardHosts, isAllowedHost } from '../../src/dashboard/host.js'
import { LoginTokens } from '../../src/dashboard/login-token.js'
import { isAllowedOrigin } from '../../src/dashboard/origin.js'
import { sendError } from '../../src/dashboard/respond.js'
import { Sessions, sessionSetCookie } from '../../src/dashboard/session.js'
import { NOT_BUILT, safeRelativePath, serveStatic } from '../../src/dashboard/static.js'
import { http } from './helpers.js'

const EXTRA = dashboardHosts(['aegis.internal'])

describe('Host allowlist', () => {
  it.each([
    ['localhost:3200', true],
    ['LOCALHOST:3200', true],
    ['127.0.0.1:3200', true],
    ['127.0.0.1', true],
    ['[::1]:3200', true],
    ['app.localhost:3200', true],
    ['a.b.localhost', true],
    ['aegis.internal:3200', true],
    ['10.0.0.5:80', true],
    ['[fd00::5]:3200', true],
    // DNS rebinding: the attacker's own name, however close to an allowed one.
    ['evil.test', false],
    ['evil.test:3200', false],
    ['127.0.0.1.evil.test', false],
    ['localhost.evil.test', false],
    ['evil-localhost', false],
    ['localhost.', true],
    ['.localhost', false],
    ['a..localhost', false],
    ['-x.localhost', false],
    // Any IP address: a DNS-rebinding page needs a name of its own.
    ['[::2]:3200', true],
    ['::1', false],
    ['127.0.0.2', true],
    ['0.0.0.0:3200', true],
    ['aegis.internal.evil.test', false],
    ['user@localhost', false],
    ['localhost:3200/x', false],
    ['localhost:abc', false],
    ['localhost 3200', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (host, allowed) => {
    expect(isAllowedHost(host, EXTRA)).toBe(allowed)
  })
})

describe('Origin check', () => {
  it.each([
    ['http://127.0.0.1:3200', true],
    ['http://localhost:3200', true],
    ['http://[::1]:3200', true],
    ['http://aegis.internal:3200', true],
    ['http://app.localhost:3200', true],
    ['http://127.0.0.1:3201', false],
    ['http://127.0.0.1', false],
    ['https://127.0.0.1:3200', false],
    ['http://evil.test:3200', false],
    ['http://127.0.0.1.evil.test:3200', false],
    ['null', false],
    ['', false],
    ['http://127.0.0.1:3200/', false],
    ['http://user@127.0.0.1:3200', false],
    [undefined, false],
  ])('%s → %s', (origin, allowed) => {
    expect(isAllowedOrigin(origin, EXTRA, 3200)).toBe(allowed)
  })
})

describe('LoginTokens', () => {
  it('issues 32-byte base64url tokens, each usable once', () => {
    const tokens = new LoginTokens()
    const token = tokens.issue()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(tokens.consume('x')).toBe(false)
    expect(tokens.consume(token)).toBe(true)
    expect(tokens.consume(token)).toBe(false)
  })

  it('expires after 5 minutes, and a late attempt consumes it too', () => {
    let now = 1_000_000
    const tokens = new LoginTokens({ now: () => now })
    const late = tokens.issue()
    const inTime = tokens.issue()
    now += 5 * 60_000 - 1
    expect(tokens.consume(inTime)).toBe(true)
    now += 1
    expect(tokens.consume(late)).toBe(false)
    now -= 10_000
    expect(tokens.consume(late)).toBe(false)
  })
})

describe('Sessions', () => {
  it('expire after 12 idle hours; use restarts the timer; close ends them', () => {
    let now = 0
    const sessions = new Sessions({ now: () => now, lifetimeMs: 100 * 3600_000 })
    const id = sessions.open({ userToken: undefined })
    now += 12 * 3600_000 - 1
    expect(sessions.get(id)).not.toBeNull()
    now += 12 * 3600_000 - 1
    expect(sessions.get(id)).not.toBeNull()
    now += 12 * 3600_000
    expect(sessions.get(id)).toBeNull()
    const other = sessions.open({ userToken: undefined })
    sessions.close(other)
    expect(sessions.get(other)).toBeNull()
    expect(sessions.get(null)).toBeNull()
    expect(sessions.get({ id: 'forged', key: other.key })).toBeNull()
  })

  it('are opened only by their id AND their key: a cookie alone, or a key alone, is nothing', () => {
    const sessions = new Sessions()
    const mine = sessions.open({ userToken: 'aegis_user_mine' })
    const theirs = sessions.open({ userToken: 'aegis_user_theirs' })
    expect(mine.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(mine.key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(mine.key).not.toBe(mine.id)
    expect(sessions.get(mine)).toEqual({ userToken: 'aegis_user_mine' })
    // The cookie with no key, a wrong key, another session's key, the id as the key.
    for (const key of ['', 'x'.repeat(43), theirs.key, mine.id]) {
      expect(sessions.get({ id: mine.id, key })).toBeNull()
    }
    // The key with no cookie, or with another session's cookie.
    expect(sessions.get({ id: '', key: mine.key })).toBeNull()
    expect(sessions.get({ id: theirs.id, key: mine.key })).toBeNull()
    // A wrong key ends nothing (whoever holds only the cookie cannot log the owner out either).
    sessions.close({ id: mine.id, key: theirs.key })
    expect(sessions.get(mine)).not.toBeNull()
    sessions.close(mine)
    expect(sessions.get(mine)).toBeNull()
    expect(sessions.get(theirs)).not.toBeNull()
  })

  it('end 12 hours after login however much they are used (checked on every get)', () => {
    let now = 0
    const sessions = new Sessions({ now: () => now })
    const id = sessions.open({ userToken: undefined })
    expect(sessions.endsAt(id.id)).toBe(12 * 3600_000)
    for (let hour = 1; hour < 12; hour++) {
      now = hour * 3600_000
      expect(sessions.get(id)).not.toBeNull()
    }
    now = 12 * 3600_000 - 1
    expect(sessions.get(id)).not.toBeNull()
    now = 12 * 3600_000
    expect(sessions.get(id)).toBeNull()
    expect(sessions.endsAt(id.id)).toBeNull()
  })

  it('sets an HttpOnly, SameSite=Strict cookie that the browser drops after the lifetime, Secure only under TLS', () => {
    expect(sessionSetCookie('abc', false)).toBe(
      'aegis_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200',
    )
    expect(sessionSetCookie('abc', true)).toMatch(/; Secure$/)
  })
})

describe('FailedAttempts', () => {
  it('limits after 10 failures in a minute, until they age out', () => {
    let now = 0
    const failures = new FailedAttempts(() => now)
    for (let i = 0; i < 9; i++) failures.record()
    expect(failures.limited()).toBe(false)
    failures.record()
    expect(failures.limited()).toBe(true)
    now += 60_000
    expect(failures.limited()).toBe(false)
  })

  it('says when the oldest failure of the minute ages out', () => {
    let now = 0
    const failures = new FailedAttempts(() => now)
    expect(failures.retryAfterMs()).toBe(0)
    for (let i = 0; i < 10; i++) {
      failures.record()
      now += 1000
    }
    expect(failures.retryAfterMs()).toBe(50_000)
  })
})

describe('every 429 and 503 the dashboard API answers carries Retry-After', () => {
  it.each([
    [503, undefined, '30'],
    [503, 4.2, '5'],
    [429, 0.01, '1'],
    [403, 10, undefined],
  ] as const)('%i (thrown with %s s) → %s', async (status, retryAfter, header) => {
    const server = createServer((_req, res) => sendError(res, status, 'x', 'x', retryAfter))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const reply = await http((server.address() as AddressInfo).port, '/')
      expect([reply.status, reply.headers['retry-after']]).toEqual([status, header])
    } finally {
      server.close()
    }
  })
})

describe('static paths', () => {
  it.each([
    ['/', ''],
    ['/assets/app.js', 'assets/app.js'],
    ['/feed?x=1', 'feed'],
    ['/..%2fetc/passwd', null],
    ['/%2e%2e/etc/passwd', null],
    ['/assets/%2e%2e/%2e%2e/x', null],
    ['/..%5c..%5cx', null],
    ['/a%5cb', null],
    ['/a%00b', null],
    ['/.env', null],
    ['/assets/.secret', null],
    ['/./index.html', null],
    ['/%E0%A4%A', null],
    ['//etc/passwd', 'etc/passwd'],
  ])('%s → %s', (url, expected) => {
    expect(safeRelativePath(url)).toBe(expected)
  })

  it('serves files under the root only, index.html for SPA routes, 503 when the SPA is not built', async () => {
    const base = mkdtempSync(join(tmpdir(), 'aegis-static-'))
    const root = join(base, 'dist')
    mkdirSync(join(root, 'assets'), { recursive: true })
    writeFileSync(join(base, 'outside.txt'), 'OUTSIDE')
    writeFileSync(join(root, 'index.html'), '<!doctype html>INDEX')
    writeFileSync(join(root, 'assets', 'app-1.js'), 'JS')
    writeFileSync(join(root, '.hidden'), 'HIDDEN')
    let current = root
    const server = createServer((req, res) => void serveStatic(req, res, current))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    try {
      const js = await http(port, '/assets/app-1.js')
      expect([js.status, js.body, js.headers['content-type']]).toEqual([
        200,
        'JS',
        'text/javascript; charset=utf-8',
      ])
      expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
      for (const route of ['/', '/login', '/feed', '/users']) {
        const page = await http(port, route)
        expect([page.status, page.body]).toEqual([200, '<!doctype html>INDEX'])
      }
      expect((await http(port, '/assets/missing.js')).status).toBe(404)
      for (const evil of [
        '/..%2foutside.txt',
        '/%2e%2e/outside.txt',
        '/..%5coutside.txt',
        '/.hidden',
        '/%2e%2e%2foutside.txt',
      ]) {
        const reply = await http(port, evil)
        expect(reply.body, evil).not.toContain('OUTSIDE')
        expect(reply.body, evil).not.toContain('HIDDEN')
      }
      current = join(base, 'missing')
      const missing = await http(port, '/feed')
      expect([missing.status, missing.body, missing.headers['retry-after']]).toEqual([503, NOT_BUILT, '30'])
    } finally {
      server.close()
      rmSync(base, { recursive: true, force: true })
    }
  })
})

describe('the gate status the Overview shows', () => {
  // What a gate's /_aegis/health answers; `running` is only ever a 200 with status ok.
  const cases: [
    label: string,
    status: number,
    body: string,
    reachable: boolean,
    sealed: boolean,
    health: string,
  ][] = [
    ['serving', 200, '{"status":"ok","sealed":false,"ledger":"ok"}', true, false, 'ok'],
    ['sealed', 503, '{"status":"sealed","sealed":true,"ledger":"ok"}', true, true, 'sealed'],
    [
      'ledger unwritable (503, not sealed)',
      503,
      '{"status":"ledger_unavailable","sealed":false,"ledger":"unavailable"}',
      true,
      false,
      'ledger_unavailable',
    ],
    ['draining', 503, '{"status":"draining","sealed":false,"ledger":"ok"}', true, false, 'draining'],
    ['a 503 naming no known state', 503, '{"status":"busy","sealed":false}', true, false, 'unavailable'],
    ['a 503 with an empty object', 503, '{}', true, false, 'unavailable'],
    ['a 200 that is not ok', 200, '{"status":"starting"}', true, false, 'unavailable'],
    ['a 404 (not a gate)', 404, '{"status":"ok"}', false, false, 'unreachable'],
    ['no JSON', 200, 'hello', false, false, 'unreachable'],
  ]
  it.each(cases)('%s', async (_label, status, body, reachable, sealed, health) => {
    const server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(body)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      expect(await externalGateStatus(url, 'default')()).toEqual({
        mode: 'external',
        url,
        reachable,
        sealed,
        status: health,
        vault: 'default',
      })
    } finally {
      server.close()
    }
  })

  /** A server on a free port answering `/_aegis/health` with `answer`; bytes it managed to write. */
  async function oddGate(
    answer: (res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void,
  ) {
    let written = 0
    const server = createServer((req, res) => {
      const write = res.write.bind(res)
      res.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
        written += Buffer.byteLength(chunk)
        return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
      }) as typeof res.write
      answer(res, req)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return {
      url,
      written: () => written,
      close: () => {
        server.closeAllConnections()
        server.close()
      },
    }
  }

  const status = async (url: string) => {
    const started = Date.now()
    const answer = await externalGateStatus(url, 'default')()
    return { reachable: answer.reachable, status: answer.status, ms: Date.now() - started }
  }

  it('a body that never ends is unreachable after the 1 s bound, not held open', async () => {
    const gate = await oddGate((res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"status":"ok",')
      const drip = setInterval(() => res.write(' '), 50)
      res.on('close', () => clearInterval(drip))
    })
    try {
      const answer = await status(gate.url)
      expect([answer.reachable, answer.status]).toEqual([false, 'unreachable'])
      expect(answer.ms).toBeLessThan(2000)
    } finally {
      gate.close()
    }
  })

  it('a body over 4 KiB is not read further: unreachable, even when it would parse as ok', async () => {
    const total = 64 * 1024 * 1024
    const gate = await oddGate((res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"status":"ok","pad":"')
      const chunk = Buffer.alloc(64 * 1024, 'x')
      let sent = 0
      const pump = () => {
        while (sent < total && !res.destroyed) {
          sent += chunk.length
          if (!res.write(chunk)) return res.once('drain', pump)
        }
        if (!res.destroyed) res.end('"}')
      }
      pump()
    })
    try {
      expect(await status(gate.url)).toMatchObject({ reachable: false, status: 'unreachable' })
      await new Promise((r) => setTimeout(r, 100))
      expect(gate.written()).toBeLessThan(total / 4)
    } finally {
      gate.close()
    }
  })

  it.each([
    [
      'a declared Content-Length over the bound',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) })
        res.write('{"status":"ok"}')
      },
    ],
    [
      'a redirect (not followed) to a gate that says ok',
      (res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => {
        if (req.url?.endsWith('?again')) {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end('{"status":"ok","sealed":false}')
          return
        }
        res.writeHead(302, { location: '/_aegis/health?again' })
        res.end()
      },
    ],
    [
      'a JSON array',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('[{"status":"ok"}]')
      },
    ],
    [
      'JSON null',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(503, { 'content-type': 'application/json' })
        res.end('null')
      },
    ],
  ])('%s is unreachable', async (_label, answer) => {
    const gate = await oddGate(answer)
    try {
      expect(await status(gate.url)).toMatchObject({ reachable: false, status: 'unreachable' })
    } finally {
      gate.close()
    }
  })

  it('an embedded gate reports its own health check', async () => {
    let report: { status: 'ok' | 'ledger_unavailable'; sealed: boolean } = {
      status: 'ledger_unavailable',
      sealed: false,
    }
    const status = embeddedGateStatus('http://127.0.0.1:1', {
      vault: { name: 'v' },
      health: () => report,
    })
    expect(await status()).toMatchObject({ reachable: true, sealed: false, status: 'ledger_unavailable' })
    report = { status: 'ok', sealed: false }
    expect(await status()).toMatchObject({ status: 'ok' })
  })
})
