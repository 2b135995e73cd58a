// `aegis dashboard --no-gate`: the dashboard alone, on the ledger of a gate started separately;
// under bootstrap (no user yet) the login link acts as bootstrap.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../../packages/proxy/test/fixtures/tls.js'
import { freePort } from '../helpers/free-port.js'
import { BIN, initProject, type Project, removeDir } from '../helpers/run-cli.js'
import { Browser, http, type RunningDashboard, startDashboard } from './helpers.js'

/** Written out, not imported: while no user exists the login form's refusal names the way in. */
const NO_USERS_YET =
  'No user exists yet, so no user token is valid: log in with the link aegis dashboard printed (aegis user add creates the first user)'

let project: Project
let gate: ChildProcess
let gatePort: number
const running: RunningDashboard[] = []

beforeAll(async () => {
  project = await initProject()
  gate = spawn(process.execPath, [BIN, 'gate', '--port', '0'], {
    cwd: project.dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: project.dir, ...project.env },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  gatePort = await new Promise<number>((resolve, reject) => {
    let out = ''
    gate.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    gate.once('exit', (code) => reject(new Error(`gate exited ${code}`)))
  })
}, 60_000)

afterAll(() => {
  for (const d of running) d.child.kill('SIGKILL')
  gate?.kill('SIGKILL')
  if (project) removeDir(project.dir)
})

describe('aegis dashboard --no-gate', () => {
  it('refuses --gate-port 0: a running gate has a real port', async () => {
    const r = await project.run(['dashboard', '--no-gate', '--gate-port', '0', '--port', '0'])
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      '',
      'Error: --gate-port 0 with --no-gate: name the port of the running gate (1-65535)\n',
    ])
  })

  it('the login link names the address bound: with dashboard.host ::1 it is [::1] and logs in', async () => {
    const config = join(project.dir, 'aegis.config.yaml')
    const v6 = join(project.dir, 'aegis.v6.yaml')
    writeFileSync(
      v6,
      readFileSync(config, 'utf8').replace(/(dashboard:\n(?: {2}.*\n)*? {2}host: )\S+/, '$1"::1"'),
    )
    const dash = await startDashboard(project.dir, ['--no-gate', '--port', '0', '--config', v6], project.env)
    running.push(dash)
    expect(dash.url).toBe(`http://[::1]:${dash.port}`)
    const login = await http(dash.port, '/api/session', {
      address: '::1',
      method: 'POST',
      headers: { host: `[::1]:${dash.port}`, origin: dash.url, 'x-aegis-csrf': '1' },
      body: JSON.stringify({ token: dash.token }),
    })
    // Logged in through the link's address: the session cookie and key come back.
    expect(login.status).toBe(200)
    expect(String(login.headers['set-cookie'])).toContain('aegis_session=')
    expect(login.json()).toEqual({ sessionKey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) })
    dash.child.kill('SIGTERM')
    await dash.exited
  })

  it('holds at most 128 connections, closing more as they arrive, and closes one idle past gate.idle_timeout', async () => {
    // The dashboard shares its process (and its descriptors) with the gate: connections held here
    // without end would starve the gate.
    const config = readFileSync(join(project.dir, 'aegis.config.yaml'), 'utf8')
    const idleConfig = join(project.dir, 'aegis.idle.yaml')
    writeFileSync(idleConfig, config.replace(/(\n {2}idle_timeout: )\d+/, '$1500'))
    const closedWithin = (socket: Socket, ms: number) =>
      new Promise<'closed' | 'open'>((resolve) => {
        const timer = setTimeout(() => resolve('open'), ms)
        socket.once('close', () => {
          clearTimeout(timer)
          resolve('closed')
        })
      })
    const open = (port: number) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket))
        socket.on('error', reject)
      })

    const capped = await startDashboard(project.dir, ['--no-gate', '--port', '0'], project.env)
    running.push(capped)
    const held: Socket[] = []
    try {
      for (let i = 0; i < 128; i++) held.push(await open(capped.port))
      const extra = await open(capped.port)
      expect(await closedWithin(extra, 2000)).toBe('closed')
      expect(held.filter((s) => s.destroyed)).toHaveLength(0)
      await expect.poll(() => capped.output()).toContain('connection limit reached')
    } finally {
      for (const s of held) s.destroy()
    }
    await expect.poll(async () => (await http(capped.port, '/api/me')).status).toBe(401)

    const idle = await startDashboard(
      project.dir,
      ['--no-gate', '--port', '0', '--config', idleConfig],
      project.env,
    )
    running.push(idle)
    expect(await closedWithin(await open(idle.port), 3000)).toBe('closed')
  })

  it('polls a TLS gate (gate.tls) over https', async () => {
    const pki = testPki()
    writeFileSync(join(project.dir, 'leaf.crt'), pki.cert)
    writeFileSync(join(project.dir, 'leaf.key'), pki.key)
    const tlsGate = spawn(
      process.execPath,
      [BIN, 'gate', '--port', '0', '--tls', '--cert', 'leaf.crt', '--key', 'leaf.key'],
      {
        cwd: project.dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: project.dir, ...project.env },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    )
    try {
      const tlsPort = await new Promise<number>((resolve, reject) => {
        let out = ''
        tlsGate.stdout?.setEncoding('utf8').on('data', (d: string) => {
          out += d
          const m = /listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(out)
          if (m) resolve(Number(m[1]))
        })
        tlsGate.once('exit', (code) => reject(new Error(`gate exited ${code}`)))
      })
      const config = readFileSync(join(project.dir, 'aegis.config.yaml'), 'utf8')
      const tlsConfig = join(project.dir, 'aegis.tls.yaml')
      writeFileSync(
        tlsConfig,
        `${config}\n`.replace(/^gate:\n/m, 'gate:\n  tls:\n    cert: ./leaf.crt\n    key: ./leaf.key\n'),
      )
      const dash = await startDashboard(
        project.dir,
        ['--no-gate', '--gate-port', String(tlsPort), '--port', '0', '--config', tlsConfig],
        project.env,
      )
      running.push(dash)
      const browser = new Browser(dash.port)
      expect((await browser.login(dash.token)).status).toBe(200)
      const overview = (await browser.get('/api/overview')).json() as { gate: unknown }
      expect(overview.gate).toMatchObject({
        mode: 'external',
        url: `https://127.0.0.1:${tlsPort}`,
        reachable: true,
        status: 'ok',
      })
    } finally {
      tlsGate.kill('SIGKILL')
    }
  })

  it('a dashboard port in use is one clear error, exit 1', async () => {
    const busy = createServer()
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r))
    const { port } = busy.address() as { port: number }
    try {
      const r = await project.run([
        'dashboard',
        '--no-gate',
        '--gate-port',
        String(gatePort),
        '--port',
        String(port),
      ])
      expect([r.code, r.stdout]).toEqual([1, ''])
      expect(r.stderr).toBe(
        `Error: Cannot start the dashboard on 127.0.0.1:${port}: Port ${port} is already in use: stop the process that holds it, or choose another port with --port (dashboard.port in the config)\n`,
      )
    } finally {
      busy.close()
    }
  })

  it('prints only the login line; the link acts as bootstrap; a user token proves nothing before users exist', async () => {
    const dash = await startDashboard(
      project.dir,
      ['--no-gate', '--gate-port', String(gatePort), '--port', '0'],
      project.env,
    )
    running.push(dash)
    expect(dash.gatePort).toBeNull()
    expect(dash.output()).not.toContain('Aegis gate listening')
    const anyone = new Browser(dash.port)
    const userToken = await anyone.login(
      'aegis_user_00000000_000000000000000000000000000000000000000000000000',
    )
    expect([userToken.status, userToken.json()]).toEqual([
      401,
      { error: { code: 'invalid_token', message: NO_USERS_YET } },
    ])
    const browser = new Browser(dash.port)
    expect((await browser.login(dash.token)).status).toBe(200)
    const me = (await browser.get('/api/me')).json() as { actor: unknown; permissions: string[] }
    expect(me.actor).toEqual({ kind: 'bootstrap' })
    expect(me.permissions).toHaveLength(16)

    // A refusal by the separate gate shows in this dashboard's views (same ledger file).
    expect((await http(gatePort, '/nope/x')).status).toBe(404)
    const overview = (await browser.get('/api/overview')).json() as {
      gate: unknown
      window: { requests: number; blocked: number; blockRate: number }
      timeline: { bucketSeconds: number; buckets: { blocked: number }[] }
      topBlocked: { code: string; count: number }[]
      expiring: unknown
    }
    expect(overview.gate).toEqual({
      mode: 'external',
      url: `http://127.0.0.1:${gatePort}`,
      reachable: true,
      sealed: false,
      status: 'ok',
      vault: 'default',
    })
    expect(overview.window).toMatchObject({ requests: 1, blocked: 1, blockRate: 1 })
    expect(overview.timeline.bucketSeconds).toBe(60)
    expect(overview.timeline.buckets).toHaveLength(60)
    expect(overview.timeline.buckets.at(-1)?.blocked).toBe(1)
    expect(overview.topBlocked).toEqual([{ code: 'service_not_found', count: 1 }])
    expect(overview.expiring).toEqual([])
    const blocked = (await browser.get('/api/blocked?since=1h')).json() as {
      groups: unknown[]
      total: number
    }
    expect(blocked.total).toBe(1)
    expect(blocked.groups).toEqual([
      { code: 'service_not_found', agent: null, count: 1, lastSeen: expect.any(String) },
    ])
    const requests = (await browser.get('/api/requests?decision=blocked')).json() as {
      items: { id: number }[]
    }
    expect(requests.items).toHaveLength(1)
    const one = (await browser.get(`/api/requests/${requests.items[0]?.id}`)).json() as { code: string }
    expect(one.code).toBe('service_not_found')
  })

  it('shows an unreachable gate as such, not as an error', async () => {
    const dash = await startDashboard(
      project.dir,
      ['--no-gate', '--gate-port', String(await freePort()), '--port', '0'],
      project.env,
    )
    running.push(dash)
    const browser = new Browser(dash.port)
    await browser.login(dash.token)
    const overview = await browser.get('/api/overview')
    expect(overview.status).toBe(200)
    expect((overview.json() as { gate: { reachable: boolean; mode: string } }).gate).toMatchObject({
      mode: 'external',
      reachable: false,
    })
    dash.child.kill('SIGTERM')
    expect(await dash.exited).toBe(0)
  })
})
