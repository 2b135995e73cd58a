/**
 * The main command flows with `storage.postgres.url` set (AEGIS_PG_URL): vault, agent, user,
 * webhook and ledger commands act on the shared database, not on the data directory's SQLite
 * files, and a second workspace on the same database (another host) sees the same state.
 * One scratch database for the file; skipped, visibly, when AEGIS_PG_URL is unset.
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { INVALID_USER_TOKEN } from '@aegis/access'
import { type ScratchDatabase, scratchDatabase } from '@aegis/pg/testing'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { Browser, startDashboard } from './dashboard/helpers.js'
import { startGateProcess } from './helpers/gate-process.js'
import { type CliResult, parseJson, removeDir, runCli, tempDir } from './helpers/run-cli.js'

const adminUrl = pgTestUrl('apps/cli commands-pg.test.ts')

/** A workspace whose config names the scratch database (through AEGIS_PG_URL). */
interface PgProject {
  dir: string
  dataDir: string
  env: Record<string, string>
  run(args: readonly string[], extra?: { env?: Record<string, string>; input?: string }): Promise<CliResult>
}

let db: ScratchDatabase
let client: pg.Client
let key: string
let a: PgProject
let b: PgProject
const dirs: string[] = []
const running: ChildProcess[] = []

/** `aegis init --json` in a new folder on the scratch database (with `masterKey`: joins its vault). */
async function initOnPg(masterKey?: string): Promise<PgProject & { key: string; joined: boolean }> {
  const dir = tempDir()
  dirs.push(dir)
  const base = { AEGIS_PG_URL: db.url }
  const init = await runCli(['init', '--json'], {
    cwd: dir,
    env: masterKey === undefined ? base : { ...base, AEGIS_MASTER_KEY: masterKey },
  })
  expect(init.code, init.stderr).toBe(0)
  const out = parseJson<{ dataDir: string; engine: string; masterKey?: string; joined?: boolean }>(init)
  expect(out.engine).toBe('postgres')
  const env = { ...base, AEGIS_MASTER_KEY: masterKey ?? (out.masterKey as string) }
  return {
    dir,
    dataDir: out.dataDir,
    key: env.AEGIS_MASTER_KEY,
    joined: out.joined === true,
    env,
    run: (args, extra = {}) => runCli(args, { cwd: dir, env: { ...env, ...extra.env }, input: extra.input }),
  }
}

async function ok(result: Promise<CliResult>): Promise<CliResult> {
  const done = await result
  expect(done.code, done.stderr).toBe(0)
  return done
}

const rows = async (sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows

/** Nothing of the stores is written to the data directory: only PostgreSQL holds them. */
function expectNoSqliteStores(p: PgProject): void {
  for (const file of ['ledger.db', 'access.db', join('vaults', 'default.db'), join('vaults', 'staging.db')]) {
    expect(existsSync(join(p.dataDir, file)), file).toBe(false)
  }
}

describe.skipIf(adminUrl === undefined)('aegis commands on PostgreSQL', () => {
  beforeAll(async () => {
    db = await scratchDatabase(adminUrl as string)
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const first = await initOnPg()
    a = first
    key = first.key
    const second = await initOnPg(key)
    expect(second.joined).toBe(true)
    b = second
  }, 60_000)
  afterEach(() => {
    for (const child of running.splice(0)) child.kill('SIGKILL')
  })
  afterAll(async () => {
    await client?.end()
    await db?.drop()
    for (const dir of dirs) removeDir(dir)
  })

  it('vault add / list / update / rotate / remove act on the shared database', async () => {
    const secret = 'xoxb-pg-flow-secret-0123456789'
    const added = await ok(
      a.run(
        [
          'vault',
          'add',
          '--name',
          'slack',
          '--service',
          'slack',
          '--domains',
          'api.slack.com',
          '--secret',
          '-',
        ],
        { input: `${secret}\n` },
      ),
    )
    expect(added.stdout).toContain('Added credential slack to vault default')
    expect(added.stdout + added.stderr).not.toContain(secret)
    // The other host lists it: one vault, in the database.
    const listed = parseJson<{ name: string; service: string }[]>(
      await ok(b.run(['vault', 'list', '--json'])),
    )
    expect(listed.map((c) => [c.name, c.service])).toEqual([['slack', 'slack']])
    expect(await rows('SELECT name FROM aegis.credentials')).toEqual([{ name: 'slack' }])

    const updated = parseJson<{ rateLimit: string | null }>(
      await ok(b.run(['vault', 'update', '--name', 'slack', '--rate-limit', '50/min', '--json'])),
    )
    expect(updated.rateLimit).toBe('50/min')
    const before = await rows('SELECT secret FROM aegis.credentials WHERE name = $1', ['slack'])
    await ok(
      a.run(['vault', 'rotate', '--name', 'slack', '--secret', '-'], { input: 'xoxb-rotated-9876543210\n' }),
    )
    const after = await rows('SELECT secret FROM aegis.credentials WHERE name = $1', ['slack'])
    expect(after).not.toEqual(before)

    // Same errors and exit codes as on SQLite.
    const unknown = await a.run(['vault', 'rotate', '--name', 'nope', '--secret', '-'], { input: 'x\n' })
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'Error: No credential named "nope"'])
    const duplicate = await a.run(
      [
        'vault',
        'add',
        '--name',
        'slack',
        '--service',
        'other',
        '--domains',
        'api.other.com',
        '--secret',
        '-',
      ],
      { input: 'another-secret-value\n' },
    )
    expect(duplicate.code).toBe(1)
    expect(duplicate.stderr).toMatch(/^Error: .*slack.*\n$/)

    await ok(b.run(['vault', 'remove', '--name', 'slack']))
    expect(parseJson<unknown[]>(await ok(a.run(['vault', 'list', '--json'])))).toEqual([])
    expectNoSqliteStores(a)
    expectNoSqliteStores(b)
  })

  it('a wrong master key is refused with the same words as on SQLite', async () => {
    const wrong = await a.run(['vault', 'list'], { env: { AEGIS_MASTER_KEY: 'A'.repeat(43) } })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toBe(
      'Error: Invalid master key: AEGIS_MASTER_KEY is well-formed but does not open vault "default" (a key of another workspace?)\n',
    )
  })

  it('vault split refuses a key that does not open the database vaults, writing nothing', async () => {
    const wrong = 'B'.repeat(43)
    const split = await a.run(['vault', 'split', '--shares', '3', '--threshold', '2'], {
      env: { AEGIS_MASTER_KEY: wrong },
    })
    expect([split.code, split.stdout]).toEqual([1, ''])
    expect(split.stderr).toBe(
      'Error: Invalid master key: the key does not open vault "default" (every vault of a data dir must share one master key)\n',
    )
    expect(existsSync(join(a.dataDir, 'custody.json'))).toBe(false)
  })

  it('vault create / vaults / destroy manage vaults in the database', async () => {
    const created = await ok(a.run(['vault', 'create', '--name', 'staging']))
    expect(created.stdout).toMatch(/^Created vault staging in postgres:\/\//)
    const vaults = parseJson<{ name: string; active: boolean }[]>(
      await ok(b.run(['vault', 'vaults', '--json'])),
    )
    expect(vaults.map((v) => [v.name, v.active])).toEqual([
      ['default', true],
      ['staging', false],
    ])
    await ok(
      b.run(
        [
          'vault',
          'add',
          '--name',
          'gh',
          '--service',
          'github',
          '--domains',
          'api.github.com',
          '--secret',
          '-',
        ],
        {
          env: { AEGIS_VAULT: 'staging' },
          input: 'ghp_staging_secret_value\n',
        },
      ),
    )
    expect(parseJson<unknown[]>(await ok(a.run(['vault', 'list', '--json'])))).toEqual([])
    await ok(a.run(['vault', 'destroy', '--name', 'staging', '--confirm']))
    expect(await rows("SELECT name FROM aegis.vaults WHERE name = 'staging'")).toEqual([])
    const gone = await a.run(['vault', 'list'], { env: { AEGIS_VAULT: 'staging' } })
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/^Error: .*staging.*\n$/)
    expectNoSqliteStores(a)
  })

  it('agent add / grant / revoke / set-rate-limit / list / remove', async () => {
    await ok(
      a.run(
        [
          'vault',
          'add',
          '--name',
          'gh',
          '--service',
          'github',
          '--domains',
          'api.github.com',
          '--secret',
          '-',
        ],
        {
          input: 'ghp_agent_flow_secret\n',
        },
      ),
    )
    const agent = parseJson<{ name: string; token: string }>(
      await ok(a.run(['agent', 'add', '--name', 'bot', '--rate-limit', '10/min', '--json'])),
    )
    expect(agent.token).toMatch(/^aegis_[A-Za-z0-9_-]{43}$/)
    // Only the hash is stored.
    const stored = JSON.stringify(await rows('SELECT * FROM aegis.agents'))
    expect(stored).not.toContain(agent.token)

    const granted = await ok(b.run(['agent', 'grant', '--agent', 'bot', '--credential', 'gh', '--json']))
    expect(parseJson<{ changed: boolean }>(granted).changed).toBe(true)
    const again = await ok(a.run(['agent', 'grant', '--agent', 'bot', '--credential', 'gh']))
    expect(again.stdout).toContain('Agent bot already had access to credential gh')
    const unknown = await a.run(['agent', 'grant', '--agent', 'bot', '--credential', 'nope'])
    expect(unknown.code).toBe(1)

    const limited = parseJson<{ rateLimit: string | null; maxInFlight: number | null }>(
      await ok(
        b.run([
          'agent',
          'set-rate-limit',
          '--agent',
          'bot',
          '--limit',
          '5/min',
          '--max-in-flight',
          '2',
          '--json',
        ]),
      ),
    )
    expect(limited).toMatchObject({ rateLimit: '5/min', maxInFlight: 2 })
    const bad = await a.run(['agent', 'set-rate-limit', '--agent', 'bot', '--limit', 'fast'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^Error: --limit: Invalid rate "fast"/)

    const list = parseJson<{ name: string; grants: string[]; rateLimit: string }[]>(
      await ok(a.run(['agent', 'list', '--json'])),
    )
    expect(list).toEqual([expect.objectContaining({ name: 'bot', grants: ['gh'], rateLimit: '5/min' })])
    const revoked = await ok(b.run(['agent', 'revoke', '--agent', 'bot', '--credential', 'gh', '--json']))
    expect(parseJson<{ changed: boolean }>(revoked).changed).toBe(true)
    await ok(a.run(['agent', 'remove', '--name', 'bot']))
    expect(parseJson<unknown[]>(await ok(b.run(['agent', 'list', '--json'])))).toEqual([])
    await ok(a.run(['vault', 'remove', '--name', 'gh']))
  })

  it('aegis run takes the agent and the secrets to withhold from the database', async () => {
    const secret = 'sk-run-on-postgres-5e8a1c'
    await ok(
      a.run(
        [
          'vault',
          'add',
          '--name',
          'oa',
          '--service',
          'openai',
          '--domains',
          'api.openai.com',
          '--secret',
          '-',
        ],
        {
          input: `${secret}\n`,
        },
      ),
    )
    const { token } = parseJson<{ token: string }>(
      await ok(a.run(['agent', 'add', '--name', 'runner', '--json'])),
    )
    const printEnv = ['node', '-e', 'process.stdout.write(JSON.stringify(process.env))']
    const result = await ok(
      b.run(['run', '--agent-token', '-', '--', ...printEnv], {
        input: `${token}\n`,
        env: { MY_OPENAI: secret },
      }),
    )
    const env = JSON.parse(result.stdout) as Record<string, string>
    expect(env.OPENAI_API_KEY).toBe(token)
    expect(result.stdout).not.toContain(secret)
    expect(result.stderr).toContain('MY_OPENAI')
    const stranger = await b.run(['run', '--agent-token', '-', '--', 'true'], {
      input: `aegis_${'x'.repeat(43)}\n`,
    })
    expect([stranger.code, stranger.stderr]).toEqual([
      1,
      'Error: The agent token is not an agent of vault "default" (aegis agent list)\n',
    ])
    await ok(a.run(['agent', 'remove', '--name', 'runner']))
    await ok(a.run(['vault', 'remove', '--name', 'oa']))
  })

  describe('through a gate on the same database', () => {
    let upstream: TestUpstream
    let receiver: Server
    let flags: string[]
    beforeAll(async () => {
      upstream = await startUpstream()
      receiver = createServer((_req, res) => res.writeHead(200).end())
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
      const caFile = join(a.dir, 'ca.pem')
      writeFileSync(caFile, testPki().caCert)
      flags = ['--upstream-ca', caFile, '--resolve', `api.example.test:443:127.0.0.1:${upstream.port}`]
      // Webhooks may target the local receiver (the upstream allow list covers them).
      const file = join(a.dir, 'aegis.config.yaml')
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(
          '  # upstream:\n',
          '  upstream:\n    allow_private: [127.0.0.1]\n',
        ),
      )
    })
    afterAll(async () => {
      await upstream?.close()
      receiver?.closeAllConnections()
      await new Promise((resolve) => receiver?.close(resolve))
    })

    it('ledger show / stats / export read what the gate wrote; webhook add / list / deliveries / remove', async () => {
      await ok(
        a.run(
          [
            'vault',
            'add',
            '--name',
            'ex',
            '--service',
            'example',
            '--domains',
            'api.example.test',
            '--secret',
            '-',
          ],
          { input: 'ex_secret_for_the_ledger_flow\n' },
        ),
      )
      const hook = parseJson<{ id: string; secret: string }>(
        await ok(
          a.run([
            'webhook',
            'add',
            '--url',
            `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
            '--events',
            'blocked_request',
            '--json',
          ]),
        ),
      )
      expect(hook.id).toMatch(/^ep_/)
      expect(JSON.stringify(await rows('SELECT * FROM aegis.webhook_endpoints'))).not.toContain(hook.secret)
      const listed = parseJson<{ id: string }[]>(await ok(b.run(['webhook', 'list', '--json'])))
      expect(listed.map((e) => e.id)).toEqual([hook.id])

      const gate = await startGateProcess(a.dir, flags, a.env)
      running.push(gate.child)
      expect(await get(gate.port, '/example/ok')).toBe(200)
      expect(await get(gate.port, '/example/ok')).toBe(200)
      expect(await get(gate.port, '/nosuchservice/x')).not.toBe(200)

      // Another host's CLI reads the gate's rows.
      const shown = parseJson<{ decision: string; service: string | null }[]>(
        await ok(b.run(['ledger', 'show', '--json'])),
      )
      const requests = shown.filter((e) => e.decision !== 'system')
      expect(requests.filter((e) => e.decision === 'allowed' && e.service === 'example')).toHaveLength(2)
      expect(requests.filter((e) => e.decision === 'blocked')).toHaveLength(1)
      const table = await ok(b.run(['ledger', 'show', '--service', 'example']))
      expect(table.stdout).toMatch(/^TIME\s+DECISION/)

      const stats = parseJson<{
        total: number
        allowed: number
        blocked: number
        byService: Record<string, number>
      }>(await ok(b.run(['ledger', 'stats', '--json'])))
      expect(stats).toMatchObject({ total: 3, allowed: 2, blocked: 1 })
      expect(stats.byService.example).toBe(2)

      const jsonl = await ok(b.run(['ledger', 'export', '-f', 'jsonl', '--service', 'example']))
      const exported = jsonl.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: number; service: string })
      expect(exported.map((e) => e.service)).toEqual(['example', 'example'])
      expect(exported[0]?.id).toBeLessThan(exported[1]?.id as number)
      const csvFile = join(b.dir, 'audit.csv')
      const csv = await ok(b.run(['ledger', 'export', '-f', 'csv', '-o', csvFile]))
      expect(csv.stderr).toMatch(/^Exported \d+ entries to /)
      expect(readFileSync(csvFile, 'utf8').split('\n')[0]).toMatch(/^id,/)
      expect(readFileSync(csvFile, 'utf8')).not.toContain('ex_secret_for_the_ledger_flow')

      // The refusal raised a blocked_request event: a delivery row in the shared outbox.
      let deliveries: { endpointId: string; type: string }[] = []
      const deadline = Date.now() + 10_000
      while (deliveries.length === 0 && Date.now() < deadline) {
        deliveries = parseJson(await ok(b.run(['webhook', 'deliveries', '--json'])))
        if (deliveries.length === 0) await new Promise((r) => setTimeout(r, 200))
      }
      expect(deliveries[0]).toMatchObject({ endpointId: hook.id, type: 'blocked_request' })

      await ok(b.run(['webhook', 'remove', '--id', hook.id]))
      expect(parseJson<unknown[]>(await ok(a.run(['webhook', 'list', '--json'])))).toEqual([])
      const missing = await a.run(['webhook', 'remove', '--id', hook.id])
      expect([missing.code, missing.stderr]).toEqual([
        1,
        `Error: No webhook with --id "${hook.id}" (aegis webhook list)\n`,
      ])
      expectNoSqliteStores(a)
    }, 60_000)

    it('the dashboard of another host (its gate embedded) shows and changes the shared state', async () => {
      const dash = await startDashboard(b.dir, ['--port', '0', '--gate-port', '0', ...flags], b.env)
      running.push(dash.child)
      expect(await get(dash.gatePort as number, '/example/dash')).toBe(200)
      const browser = new Browser(dash.port)
      expect((await browser.login(dash.token)).status).toBe(200)
      const credentials = (await browser.get('/api/credentials')).json() as { items: { name: string }[] }
      expect(credentials.items.map((c) => c.name)).toEqual(['ex'])
      const requests = (await browser.get('/api/requests?service=example')).json() as {
        items: { path: string }[]
      }
      // Two from the first host's gate, one from this one's: one ledger.
      expect(requests.items.map((r) => r.path).sort()).toEqual(['/dash', '/ok', '/ok'])
      const overview = (await browser.get('/api/overview')).json() as { window: { requests: number } }
      expect(overview.window.requests).toBe(4)
      expect((await browser.get('/api/users')).json()).toEqual({ items: [] })
      expect((await browser.get('/api/agents')).json()).toEqual({ items: [] })
      expect((await browser.write('DELETE', '/api/credentials/ex')).status).toBe(204)
      expect(parseJson<unknown[]>(await ok(a.run(['vault', 'list', '--json'])))).toEqual([])
    }, 60_000)
  })

  // Last: it turns RBAC on for the whole database.
  it('user add / list / role / remove: RBAC holds on every host of the database', async () => {
    const admin = parseJson<{ token: string }>(
      await ok(a.run(['user', 'add', '--name', 'root', '--role', 'admin', '--json'])),
    )
    expect(JSON.stringify(await rows('SELECT * FROM aegis.users'))).not.toContain(admin.token)
    // The other host is under RBAC now too: the users live in the database.
    const refused = await b.run(['vault', 'list'])
    expect([refused.code, refused.stderr]).toEqual([
      1,
      'Error: Authentication required (set AEGIS_USER_TOKEN)\n',
    ])
    const asAdmin = { env: { AEGIS_USER_TOKEN: admin.token } }
    const viewer = parseJson<{ token: string }>(
      await ok(b.run(['user', 'add', '--name', 'eve', '--role', 'viewer', '--json'], asAdmin)),
    )
    const users = parseJson<{ name: string; role: string }[]>(
      await ok(a.run(['user', 'list', '--json'], asAdmin)),
    )
    expect(users.map((u) => [u.name, u.role])).toEqual([
      ['eve', 'viewer'],
      ['root', 'admin'],
    ])
    const denied = await a.run(['agent', 'add', '--name', 'x'], { env: { AEGIS_USER_TOKEN: viewer.token } })
    expect([denied.code, denied.stderr]).toEqual([
      1,
      'Error: Permission denied: viewer may not agent:write (an admin can change your role: aegis user role --name <you> --role <role>)\n',
    ])
    await ok(a.run(['user', 'role', '--name', 'eve', '--role', 'operator'], asAdmin))
    const last = await b.run(['user', 'remove', '--name', 'root', '--confirm'], asAdmin)
    expect(last.code).toBe(1)
    await ok(b.run(['user', 'remove', '--name', 'eve', '--confirm'], asAdmin))
    const gone = await a.run(['vault', 'list'], { env: { AEGIS_USER_TOKEN: viewer.token } })
    expect([gone.code, gone.stderr]).toEqual([1, `Error: ${INVALID_USER_TOKEN}\n`])
  })
})

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}
