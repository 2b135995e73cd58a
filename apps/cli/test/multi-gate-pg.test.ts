import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { scratchDatabase } from '@aegis/pg/testing'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { type GateProcess, startGateProcess } from './helpers/gate-process.js'
import { removeDir, runCli, tempDir } from './helpers/run-cli.js'

/**
 * Three `aegis gate` processes, each in a workspace of its own (three hosts), on one PostgreSQL
 * database and one Redis: one vault, one ledger, one set of agents, one rate budget. What one
 * gate or CLI changes, the others serve within a second; kill -9 of a gate loses no ledger row of
 * a request the upstream saw.
 */

const PG_URL = process.env.AEGIS_PG_URL
const REDIS_URL = process.env.AEGIS_REDIS_URL
const missing = [PG_URL === undefined && 'AEGIS_PG_URL', REDIS_URL === undefined && 'AEGIS_REDIS_URL'].filter(
  Boolean,
)
if (missing.length > 0) {
  process.stderr.write(
    `SKIPPED three aegis gates on PostgreSQL and Redis: ${missing.join(' and ')} not set (scripts/services.sh start DIR sets them)\n`,
  )
}

const MASTER_KEY = 'multi-gate-pg-test-master-key-0123456789abcdef'
const SECRET = 'ghp_multi_gate_pg_secret_value_42'

interface Reply {
  status: number
  code: string | undefined
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, code: res.headers['x-aegis-block'] as string | undefined }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(missing.length > 0)('three aegis gates on one PostgreSQL and one Redis', () => {
  let upstream: TestUpstream
  let db: { url: string; drop(): Promise<void> }
  let client: pg.Client
  const dirs: string[] = []
  let env: Record<string, string>
  let flags: string[]
  const running: ChildProcess[] = []
  let gates: GateProcess[] = []
  let fiveToken: string
  // Runs the CLI in workspace `i` (0 = host A).
  const cli = (i: number, args: string[], input?: string) =>
    runCli(args, { cwd: dirs[i] as string, env, ...(input !== undefined && { input }) })
  const ok = async (i: number, args: string[], input?: string) => {
    const result = await cli(i, args, input)
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0)
    return result
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    db = await scratchDatabase(PG_URL as string)
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    env = { AEGIS_PG_URL: db.url, AEGIS_REDIS_URL: REDIS_URL as string, AEGIS_MASTER_KEY: MASTER_KEY }
    // A budget prefix of its own, so earlier runs on the same Redis do not count.
    const prefix = `multi-gate-pg-${process.pid}-${Date.now()}:`
    for (let i = 0; i < 3; i++) {
      const dir = tempDir()
      dirs.push(dir)
      const init = await runCli(['init', '--json'], { cwd: dir, env })
      expect(init.code, init.stderr).toBe(0)
      // Host A creates the vault in PostgreSQL; B and C find it there and join with the same key.
      expect(JSON.parse(init.stdout)).toMatchObject({ engine: 'postgres', ...(i > 0 && { joined: true }) })
      const file = join(dir, 'aegis.config.yaml')
      writeFileSync(file, readFileSync(file, 'utf8').replace('prefix: "aegis:rate:"', `prefix: "${prefix}"`))
    }
    const caFile = join(dirs[0] as string, 'ca.pem')
    writeFileSync(caFile, testPki().caCert)
    flags = ['--upstream-ca', caFile, '--resolve', `api.example.test:443:127.0.0.1:${upstream.port}`]
    await ok(
      0,
      [
        'vault',
        'add',
        '--name',
        'gh',
        '--service',
        'github',
        '--secret',
        '-',
        '--domains',
        'api.example.test',
      ],
      SECRET,
    )
    // Agent five exists before the gates start: its budget is spent only by the burst below.
    const five = await ok(0, ['agent', 'add', '--name', 'five', '--rate-limit', '5/min', '--json'])
    fiveToken = JSON.parse(five.stdout).token as string
    await ok(0, ['agent', 'grant', '--agent', 'five', '--credential', 'gh'])
    gates = await Promise.all(
      [0, 1, 2].map((i) =>
        startGateProcess(dirs[i] as string, flags, env, /Rate limits shared through Redis/),
      ),
    )
    running.push(...gates.map((g) => g.child))
  })
  afterEach(() => {
    for (const gate of gates) expect(gate.output()).not.toContain(SECRET)
  })
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL')
    await client?.end()
    await db?.drop()
    await upstream?.close()
    for (const dir of dirs) removeDir(dir)
  })

  const rows = async (where: string, params: unknown[]) =>
    (
      await client.query<{ path: string; decision: string; code: string | null; agent: string | null }>(
        `SELECT path, decision, code, agent FROM aegis.ledger_entries WHERE ${where} ORDER BY id`,
        params,
      )
    ).rows

  it('every gate prints where the state is, without the URL password', () => {
    for (const gate of gates) {
      expect(gate.output()).toContain('State shared through PostgreSQL at postgres://')
      expect(gate.output()).toMatch(/Rate limits shared through Redis/)
    }
  })

  it('a 5/min agent limit allows exactly 5 of 15 requests spread across the three; the ledger holds one row per request', async () => {
    const token = fiveToken
    const before = upstream.received.length
    const replies = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        get((gates[i % 3] as GateProcess).port, `/github/five/${i}`, { 'X-Aegis-Agent': token }),
      ),
    )
    expect(replies.filter((r) => r.status === 200)).toHaveLength(5)
    expect(replies.filter((r) => r.status === 429 && r.code === 'rate_limited')).toHaveLength(10)
    expect(upstream.received.length - before).toBe(5)
    const ledger = await rows(`agent = 'five' AND path LIKE '%/five/%'`, [])
    expect(ledger).toHaveLength(15)
    expect(new Set(ledger.map((r) => r.path)).size).toBe(15)
    expect(ledger.filter((r) => r.decision === 'allowed')).toHaveLength(5)
    expect(ledger.filter((r) => r.code === 'rate_limited')).toHaveLength(10)
  })

  it('a credential added with the CLI is served by gate C within 1 s', async () => {
    const gateC = gates[2] as GateProcess
    expect((await get(gateC.port, '/fresh/user')).status).not.toBe(200)
    await ok(
      0,
      [
        'vault',
        'add',
        '--name',
        'fresh',
        '--service',
        'fresh',
        '--secret',
        '-',
        '--domains',
        'api.example.test',
      ],
      'fresh_credential_secret_value_0042',
    )
    // Timed from the CLI's exit: its transaction committed by then.
    const start = Date.now()
    let status = 0
    while (status !== 200 && Date.now() - start < 3000) {
      status = (await get(gateC.port, '/fresh/user')).status
      if (status !== 200) await sleep(20)
    }
    const elapsed = Date.now() - start
    expect(status).toBe(200)
    expect(elapsed).toBeLessThan(1000)
  })

  it('an agent revoked with the CLI is refused by all three gates within 1 s', async () => {
    const added = await ok(0, ['agent', 'add', '--name', 'doomed', '--json'])
    const token = JSON.parse(added.stdout).token as string
    await ok(1, ['agent', 'grant', '--agent', 'doomed', '--credential', 'gh'])
    for (const gate of gates) {
      let status = 0
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await get(gate.port, '/github/doomed', { 'X-Aegis-Agent': token })).status
        if (status !== 200) await sleep(20)
      }
      expect(status).toBe(200)
    }
    await ok(2, ['agent', 'revoke', '--agent', 'doomed', '--credential', 'gh'])
    const start = Date.now()
    const refusedAt = await Promise.all(
      gates.map(async (gate) => {
        for (;;) {
          const reply = await get(gate.port, '/github/doomed', { 'X-Aegis-Agent': token })
          if (reply.status === 403) return { elapsed: Date.now() - start, code: reply.code }
          if (Date.now() - start > 3000) return { elapsed: Infinity, code: reply.code }
          await sleep(20)
        }
      }),
    )
    for (const refused of refusedAt) {
      expect(refused.elapsed).toBeLessThan(1000)
      expect(refused.code).toBe('grant_denied')
    }
  })

  it('kill -9 of one gate under load: every request the upstream saw has its ledger row', async () => {
    const added = await ok(0, ['agent', 'add', '--name', 'load', '--json'])
    const token = JSON.parse(added.stdout).token as string
    await ok(0, ['agent', 'grant', '--agent', 'load', '--credential', 'gh'])
    const victim = gates[1] as GateProcess
    for (let status = 0, i = 0; status !== 200 && i < 100; i++) {
      status = (await get(victim.port, '/github/load-warmup', { 'X-Aegis-Agent': token })).status
      if (status !== 200) await sleep(20)
    }
    const tag = `load-${Date.now()}`
    let next = 0
    let killed = false
    const worker = async () => {
      while (!killed && next < 2000) {
        const n = next++
        await get(victim.port, `/github/${tag}/${n}`, { 'X-Aegis-Agent': token }).catch(() => null)
      }
    }
    const load = Promise.all(Array.from({ length: 16 }, worker))
    const seen = () => upstream.received.filter((r) => r.url.includes(`/${tag}/`)).length
    while (seen() < 150) await sleep(5)
    victim.child.kill('SIGKILL')
    killed = true
    await load
    await new Promise((r) => (victim.child.exitCode !== null ? r(null) : victim.child.once('exit', r)))
    const forwarded = upstream.received
      .filter((r) => r.url.includes(`/${tag}/`))
      .map((r) => (r.url.split(`/${tag}/`)[1] ?? '').split(/[/?]/)[0])
    expect(forwarded.length).toBeGreaterThanOrEqual(150)
    const recorded = new Set(
      (await rows('path LIKE $1', [`%/${tag}/%`])).map(
        (r) => (r.path.split(`/${tag}/`)[1] ?? '').split(/[/?]/)[0],
      ),
    )
    const lost = forwarded.filter((n) => !recorded.has(n))
    expect(lost, 'forwarded requests without a ledger row').toEqual([])
    // The other two gates still serve.
    for (const gate of [gates[0], gates[2]] as GateProcess[]) {
      expect((await get(gate.port, '/github/after-kill', { 'X-Aegis-Agent': token })).status).toBe(200)
    }
  })
})
