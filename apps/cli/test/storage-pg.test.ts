import type { ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { scratchDatabase } from '@aegis/pg/testing'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { type GateProcess, startGateProcess } from './helpers/gate-process.js'
import { listFiles, removeDir, runCli, tempDir } from './helpers/run-cli.js'

/**
 * `aegis storage migrate|status`, `aegis init` and `aegis doctor` on PostgreSQL, and a gate's start
 * and life against it: the schema it refuses, the server it cannot reach, the server that goes away.
 */

const PG_URL = process.env.AEGIS_PG_URL
if (PG_URL === undefined) {
  process.stderr.write(
    'SKIPPED aegis storage and gates on PostgreSQL: AEGIS_PG_URL is not set (scripts/services.sh start DIR sets it)\n',
  )
}

const KEY = 'storage-pg-test-master-key-0123456789abcdef0123'
const PASSWORD = 'pw-s3cret-71x'
const SETS = ['core', 'vault', 'ledger', 'access', 'webhooks']

interface SetStatus {
  set: string
  state: string
  applied: number
  known: number
}

type Scratch = { url: string; drop(): Promise<void> }
const scratches: Scratch[] = []
const dirs: string[] = []
const running: ChildProcess[] = []

async function scratch(): Promise<Scratch> {
  const db = await scratchDatabase(PG_URL as string)
  scratches.push(db)
  return db
}
function dir(): string {
  const d = tempDir()
  dirs.push(d)
  return d
}
async function query<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, params)).rows
  } finally {
    await client.end()
  }
}
const json = <T>(stdout: string): T => JSON.parse(stdout) as T

afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL')
})
afterAll(async () => {
  for (const db of scratches) await db.drop()
  for (const d of dirs) removeDir(d)
})

describe('aegis storage without PostgreSQL', () => {
  it('status names the SQLite files; migrate says there is nothing to migrate (exit 1)', async () => {
    const cwd = dir()
    expect((await runCli(['init', '--write-secrets'], { cwd })).code).toBe(0)
    const status = await runCli(['storage', 'status', '--json'], { cwd })
    expect(status.code).toBe(0)
    expect(json(status.stdout)).toEqual({ engine: 'sqlite', dataDir: join(cwd, '.aegis') })
    const migrate = await runCli(['storage', 'migrate'], { cwd })
    expect(migrate.code).toBe(1)
    expect(migrate.stderr.trim().split('\n')).toHaveLength(1)
    expect(migrate.stderr).toContain('set storage.postgres.url or AEGIS_PG_URL')
  })

  it.each([
    ['storage status', ['storage', 'status']],
    ['storage migrate', ['storage', 'migrate']],
    ['gate', ['gate', '--port', '0']],
  ])(
    '%s: a server that does not answer is one line naming host:port, without the password',
    async (_, args) => {
      const cwd = dir()
      const env = { AEGIS_PG_URL: `postgres://aegis:${PASSWORD}@127.0.0.1:1/aegis`, AEGIS_MASTER_KEY: KEY }
      const result = await runCli(args, { cwd, env })
      expect(result.code).toBe(1)
      const lines = result.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(
        /PostgreSQL at 127\.0\.0\.1:1 does not answer \(postgres:\/\/aegis:\*\*\*@127\.0\.0\.1:1\/aegis\)/,
      )
      expect(result.stderr + result.stdout).not.toContain(PASSWORD)
    },
  )
})

/**
 * A server that asks for a SCRAM password, as a PostgreSQL with `scram-sha-256` in pg_hba.conf does
 * (the test cluster trusts every login): AuthenticationSASL, then a server-first message.
 */
async function scramServer(): Promise<{ port: number; close(): Promise<void> }> {
  const message = (type: string, body: Buffer) => {
    const head = Buffer.alloc(5)
    head.write(type, 0, 'latin1')
    head.writeInt32BE(body.length + 4, 1)
    return Buffer.concat([head, body])
  }
  const auth = (code: number, rest: Buffer) => {
    const c = Buffer.alloc(4)
    c.writeInt32BE(code)
    return message('R', Buffer.concat([c, rest]))
  }
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    let startup = true
    socket.on('error', () => {})
    socket.on('data', () => {
      if (startup) socket.write(auth(10, Buffer.from('SCRAM-SHA-256\0\0', 'latin1')))
      else socket.write(auth(11, Buffer.from('r=nonce,s=c2FsdA==,i=4096', 'latin1')))
      startup = false
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('a server that asks for a password the URL does not have', () => {
  it('is one line naming the server and where the password goes', async () => {
    const server = await scramServer()
    try {
      const env = { AEGIS_PG_URL: `postgres://aegis@127.0.0.1:${server.port}/aegis`, AEGIS_MASTER_KEY: KEY }
      const result = await runCli(['storage', 'status'], { cwd: dir(), env })
      expect(result.code).toBe(1)
      const lines = result.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(
        `PostgreSQL at postgres://aegis@127.0.0.1:${server.port}/aegis asks for a password`,
      )
      expect(lines[0]).toContain('AEGIS_PG_URL or storage.postgres.url')
      expect(lines[0]).not.toContain('SASL')
    } finally {
      await server.close()
    }
  })
})

describe.skipIf(PG_URL === undefined)('aegis storage migrate and status on PostgreSQL', () => {
  it('status reports an empty database (exit 1); migrate applies every set; a second run changes nothing', async () => {
    const db = await scratch()
    const cwd = dir()
    const env = { AEGIS_PG_URL: db.url }
    const before = await runCli(['storage', 'status', '--json'], { cwd, env })
    expect(before.code).toBe(1)
    const empty = json<{ engine: string; current: boolean; sets: SetStatus[] }>(before.stdout)
    expect(empty.engine).toBe('postgres')
    expect(empty.current).toBe(false)
    expect(empty.sets.map((s) => [s.set, s.state, s.applied])).toEqual(SETS.map((s) => [s, 'empty', 0]))

    const first = await runCli(['storage', 'migrate', '--json'], { cwd, env })
    expect(first.code, first.stderr).toBe(0)
    const applied = json<{ sets: SetStatus[] }>(first.stdout).sets
    expect(applied.map((s) => s.set)).toEqual(SETS)
    for (const s of applied) {
      expect(s).toMatchObject({ state: 'current', applied: s.known })
      expect(s.known).toBeGreaterThan(0)
    }
    const second = await runCli(['storage', 'migrate'], { cwd, env })
    expect(second.code).toBe(0)
    expect(second.stdout).toContain('The schema is current')
    for (const set of SETS)
      expect(second.stdout).toMatch(new RegExp(`^${set}\\s+(\\d+)/\\1 applied\\s+current$`, 'm'))
    const after = await runCli(['storage', 'status'], { cwd, env })
    expect(after.code).toBe(0)
    expect(after.stdout).toContain(`Engine: PostgreSQL at ${db.url}`)
  })

  it('several migrate runs at once all succeed and apply each migration once', async () => {
    const db = await scratch()
    const cwd = dir()
    const runs = await Promise.all(
      [0, 1, 2].map(() => runCli(['storage', 'migrate', '--json'], { cwd, env: { AEGIS_PG_URL: db.url } })),
    )
    for (const run of runs) expect(run.code, run.stderr).toBe(0)
    for (const run of runs) {
      for (const set of json<{ sets: SetStatus[] }>(run.stdout).sets) {
        expect(set).toMatchObject({ state: 'current', applied: set.known })
        // One row per migration in its table: none ran twice.
        const rows = await query<{ n: string }>(
          db.url,
          `SELECT count(*) AS n FROM aegis."__migrations_${set.set}"`,
        )
        expect(Number(rows[0]?.n)).toBe(set.known)
      }
    }
  })

  it('a login the server refuses is one line saying so, without the password', async () => {
    const url = new URL(PG_URL as string)
    url.username = 'no_such_role_aegis'
    url.password = PASSWORD
    const result = await runCli(['storage', 'status'], { cwd: dir(), env: { AEGIS_PG_URL: url.toString() } })
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain('refused the login')
    expect(result.stderr).toContain('no_such_role_aegis:***@')
    expect(result.stderr).not.toContain(PASSWORD)
  })
})

describe.skipIf(PG_URL === undefined)('a database that does not exist', () => {
  it('is one line naming it, saying to create it', async () => {
    const url = new URL(PG_URL as string)
    url.pathname = '/aegis_no_such_database_0'
    const result = await runCli(['storage', 'migrate'], { cwd: dir(), env: { AEGIS_PG_URL: url.toString() } })
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(
      /database "aegis_no_such_database_0" does not exist \(create it, then run aegis storage migrate\)/,
    )
  })
})

describe.skipIf(PG_URL === undefined)('a database newer than this aegis (schema ahead)', () => {
  let db: Scratch
  let cwd: string
  let env: Record<string, string>
  const counts = async () =>
    Promise.all(
      SETS.map(async (set) =>
        Number(
          (await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM aegis."__migrations_${set}"`))[0]?.n,
        ),
      ),
    )
  beforeAll(async () => {
    db = await scratch()
    cwd = dir()
    env = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY }
    expect((await runCli(['init'], { cwd, env })).code).toBe(0)
    // What a newer aegis leaves behind: a vault migration this build does not know.
    await query(
      db.url,
      `INSERT INTO aegis."__migrations_vault" (hash, created_at) VALUES ('from-the-future', 4102444800000)`,
    )
  })

  const AHEAD =
    /The PostgreSQL schema of "vault" is newer than this aegis \(\d+ migrations applied, \d+ known\): upgrade aegis; refusing to run against it/

  it('the gate refuses to start, naming the set and the versions', async () => {
    const result = await runCli(['gate', '--port', '0'], { cwd, env })
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(AHEAD)
    expect(result.stdout).not.toContain('listening')
  })

  it('a command refuses too; migrate refuses and changes nothing', async () => {
    const list = await runCli(['vault', 'list'], { cwd, env })
    expect(list.code).toBe(1)
    expect(list.stderr).toMatch(AHEAD)
    const before = await counts()
    const migrate = await runCli(['storage', 'migrate'], { cwd, env })
    expect(migrate.code).toBe(1)
    expect(migrate.stderr).toMatch(AHEAD)
    expect(await counts()).toEqual(before)
  })

  it('status and doctor report it (exit 1)', async () => {
    const status = await runCli(['storage', 'status', '--json'], { cwd, env })
    expect(status.code).toBe(1)
    expect(json<{ sets: SetStatus[] }>(status.stdout).sets.find((s) => s.set === 'vault')).toMatchObject({
      state: 'ahead',
    })
    const doctor = await runCli(['doctor', '--json'], { cwd, env })
    expect(doctor.code).toBe(1)
    const checks = json<{ checks: Array<{ name: string; status: string; message: string }> }>(
      doctor.stdout,
    ).checks
    expect(checks.find((c) => c.name === 'postgres schema vault')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('newer than this aegis'),
    })
  })
})

describe.skipIf(PG_URL === undefined)('aegis init and doctor on PostgreSQL', () => {
  it('init migrates and creates the vault in the database (no vault file); another host joins with the key', async () => {
    const db = await scratch()
    const env = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY }
    const a = dir()
    const first = await runCli(['init', '--json'], { cwd: a, env })
    expect(first.code, first.stderr).toBe(0)
    expect(json(first.stdout)).toMatchObject({ engine: 'postgres', vault: 'default' })
    expect(json<Record<string, unknown>>(first.stdout)).not.toHaveProperty('joined')
    expect(
      (await query<{ name: string }>(db.url, 'SELECT name FROM aegis.vaults')).map((r) => r.name),
    ).toEqual(['default'])
    expect(listFiles(join(a, '.aegis')).filter((f) => f.endsWith('.db') || f === 'vaults.json')).toEqual([])
    const b = dir()
    const joined = await runCli(['init', '--json'], { cwd: b, env })
    expect(joined.code, joined.stderr).toBe(0)
    expect(json(joined.stdout)).toMatchObject({ engine: 'postgres', joined: true })
    const status = await runCli(['storage', 'status'], { cwd: b, env })
    expect(status.code).toBe(0)
  })

  it.each([
    [
      'a generated key (no AEGIS_MASTER_KEY)',
      {},
      /Vault "default" already exists in PostgreSQL at .*: set AEGIS_MASTER_KEY to its key/,
    ],
    ['a different key', { AEGIS_MASTER_KEY: `${KEY}-other` }, /master key/i],
  ])('a second init with %s is refused and writes no config file', async (_, extra, message) => {
    const db = await scratch()
    expect(
      (await runCli(['init'], { cwd: dir(), env: { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY } })).code,
    ).toBe(0)
    const cwd = dir()
    const result = await runCli(['init'], { cwd, env: { AEGIS_PG_URL: db.url, ...extra } })
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(message)
    expect(existsSync(join(cwd, 'aegis.config.yaml'))).toBe(false)
  })

  const doctorChecks = async (cwd: string, env: Record<string, string>) => {
    const result = await runCli(['doctor', '--json'], { cwd, env })
    return {
      code: result.code,
      checks: json<{ checks: Array<{ name: string; status: string; message: string }> }>(result.stdout)
        .checks,
    }
  }

  it('doctor: the server, its version, the pool, each schema, and the vault in the database', async () => {
    const db = await scratch()
    const cwd = dir()
    const env = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY }
    expect((await runCli(['init'], { cwd, env })).code).toBe(0)
    const { code, checks } = await doctorChecks(cwd, env)
    expect(code).toBe(0)
    expect(checks.find((c) => c.name === 'postgres')).toMatchObject({
      status: 'pass',
      message: expect.stringMatching(
        /^PostgreSQL \d+\.\d+.* at postgres:\/\/.* answers; pool of 10, changes polled every 5000 ms/,
      ),
    })
    expect(checks.find((c) => c.name === 'postgres schema')).toMatchObject({
      status: 'pass',
      message: expect.stringMatching(
        /^current: core \d+\/\d+, vault \d+\/\d+, ledger \d+\/\d+, access \d+\/\d+, webhooks \d+\/\d+$/,
      ),
    })
    expect(checks.find((c) => c.name === 'vault database')).toMatchObject({
      status: 'pass',
      message: 'vault "default" opens in PostgreSQL',
    })
    // The SQLite-only checks do not run (no vaults.json, no ledger.db on this engine).
    expect(checks.map((c) => c.name)).not.toContain('vaults.json')
    expect(checks.map((c) => c.name)).not.toContain('ledger')
    const names = checks.map((c) => c.name)
    expect(names.indexOf('postgres')).toBe(names.indexOf('redis') - 2)
  })

  it('a vault name the database does not hold: the gate and doctor say how to create it', async () => {
    const db = await scratch()
    const cwd = dir()
    const env = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY }
    expect((await runCli(['init'], { cwd, env })).code).toBe(0)
    const other = { ...env, AEGIS_VAULT: 'staging' }
    const gate = await runCli(['gate', '--port', '0'], { cwd, env: other })
    expect(gate.code).toBe(1)
    expect(gate.stderr).toMatch(
      /No vault "staging" in PostgreSQL at postgres:\/\/.*\(create it: aegis init, or aegis vault create --name staging\)/,
    )
    expect(gate.stderr).not.toContain(KEY)
    const { code, checks } = await doctorChecks(cwd, other)
    expect(code).toBe(1)
    expect(checks.find((c) => c.name === 'vault database')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('(aegis init, or aegis vault create --name staging)'),
    })
  })

  it('doctor: an empty database fails per set, saying to run aegis storage migrate', async () => {
    const db = await scratch()
    const cwd = dir()
    expect((await runCli(['init', '--write-secrets'], { cwd })).code).toBe(0)
    const { code, checks } = await doctorChecks(cwd, { AEGIS_PG_URL: db.url })
    expect(code).toBe(1)
    for (const set of SETS) {
      expect(checks.find((c) => c.name === `postgres schema ${set}`)).toMatchObject({
        status: 'fail',
        message: expect.stringContaining('empty: run aegis storage migrate'),
      })
    }
  })

  it('doctor: not configured is a pass saying so; unreachable fails without the password', async () => {
    const cwd = dir()
    expect((await runCli(['init', '--write-secrets'], { cwd })).code).toBe(0)
    const off = await doctorChecks(cwd, {})
    expect(off.checks.find((c) => c.name === 'postgres')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('not configured'),
    })
    const down = await doctorChecks(cwd, { AEGIS_PG_URL: `postgres://aegis:${PASSWORD}@127.0.0.1:1/aegis` })
    expect(down.code).toBe(1)
    const check = down.checks.find((c) => c.name === 'postgres')
    expect(check?.status).toBe('fail')
    expect(check?.message).toContain('127.0.0.1:1 does not answer')
    expect(JSON.stringify(down.checks)).not.toContain(PASSWORD)
  })
})

/** A TCP relay to PostgreSQL that the test can cut and restore (the server itself is shared). */
class Relay {
  #server: Server | null = null
  #sockets = new Set<Socket>()
  port = 0
  constructor(private readonly target: { host: string; port: number }) {}
  async start(): Promise<void> {
    const server = createServer((socket) => {
      const upstream = tcpConnect(this.target.port, this.target.host)
      for (const s of [socket, upstream]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.on('error', () => {})
      }
      socket.pipe(upstream).pipe(socket)
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as { port: number }).port
    this.#server = server
  }
  async cut(): Promise<void> {
    const server = this.#server
    this.#server = null
    for (const s of this.#sockets) s.destroy()
    await new Promise((resolve) => server?.close(resolve))
  }
}

function get(port: number, path: string): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, code: res.headers['x-aegis-block'] as string | undefined }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

describe.skipIf(PG_URL === undefined)('a gate whose PostgreSQL goes away', () => {
  let upstream: TestUpstream
  beforeAll(async () => {
    upstream = await startUpstream()
  })
  afterAll(async () => {
    await upstream.close()
  })

  it('refuses requests while it is away (ledger_unavailable), and on its return serves again, with what changed meanwhile', async () => {
    const db = await scratch()
    const real = new URL(db.url)
    const relay = new Relay({ host: real.hostname, port: Number(real.port || 5432) })
    await relay.start()
    const viaRelay = new URL(db.url)
    viaRelay.port = String(relay.port)
    const cwd = dir()
    const direct = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY }
    expect((await runCli(['init'], { cwd, env: direct })).code).toBe(0)
    const caFile = join(cwd, 'ca.pem')
    writeFileSync(caFile, testPki().caCert)
    const add = (name: string) =>
      runCli(
        ['vault', 'add', '--name', name, '--service', name, '--secret', '-', '--domains', 'api.example.test'],
        {
          cwd,
          env: direct,
          input: `${name}_secret_value_for_outage_test`,
        },
      )
    expect((await add('before')).code).toBe(0)
    const gate: GateProcess = await startGateProcess(
      cwd,
      ['--upstream-ca', caFile, '--resolve', `api.example.test:443:127.0.0.1:${upstream.port}`],
      { AEGIS_PG_URL: viaRelay.toString(), AEGIS_MASTER_KEY: KEY, AEGIS_LOG_LEVEL: 'warn' },
    )
    running.push(gate.child)
    expect((await get(gate.port, '/before/x')).status).toBe(200)

    await relay.cut()
    const seen = upstream.received.length
    const refused = await get(gate.port, '/before/x').catch(async (e) => {
      await new Promise((r) => setTimeout(r, 300))
      throw new Error(`${e}\n${gate.output()}`)
    })
    expect(refused).toEqual({ status: 503, code: 'ledger_unavailable' })
    expect(upstream.received.length).toBe(seen)
    // Changed while this gate cannot hear about it.
    expect((await add('during')).code).toBe(0)
    expect(gate.child.exitCode).toBeNull()

    await relay.start()
    let status = 0
    const start = Date.now()
    while (status !== 200 && Date.now() - start < 15_000) {
      await new Promise((r) => setTimeout(r, 100))
      status = (await get(gate.port, '/during/x')).status
    }
    expect(status).toBe(200)
    expect((await get(gate.port, '/before/x')).status).toBe(200)
    expect(gate.output()).toContain('PostgreSQL')
    await relay.cut()
  })
})

describe.skipIf(PG_URL === undefined)('aegis mcp serve on PostgreSQL', () => {
  it('serves from the shared state and records its start and stop in the PostgreSQL ledger', async () => {
    const { spawn } = await import('node:child_process')
    const { BIN } = await import('./helpers/run-cli.js')
    const db = await scratch()
    const cwd = dir()
    const env = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY }
    expect((await runCli(['init'], { cwd, env })).code).toBe(0)
    const child = spawn(process.execPath, [BIN, 'mcp', 'serve', '--transport', 'http', '--port', '0'], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    running.push(child)
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    for (let i = 0; i < 200 && !out.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50))
    expect(out).toMatch(/Aegis MCP server listening on http:\/\/127\.0\.0\.1:\d+/)
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    const events = await query<{ event: string }>(
      db.url,
      "SELECT event FROM aegis.ledger_entries WHERE event LIKE 'mcp_%' ORDER BY id",
    )
    expect(events.map((e) => e.event)).toEqual(['mcp_start', 'mcp_stop'])
  })
})
