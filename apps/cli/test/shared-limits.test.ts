import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { PrivateRedis } from '../../../packages/redis-rate-limit/test/redis-server.js'
import { type GateProcess, startGateProcess } from './helpers/gate-process.js'
import { removeDir, runCli, tempDir } from './helpers/run-cli.js'

/**
 * Several `aegis gate` processes on one data dir and one Redis (rate_limit.redis.url): one agent
 * limit across all of them, and what a gate does while its Redis is gone.
 */

const REDIS = process.env.AEGIS_REDIS_URL
if (REDIS === undefined) {
  process.stderr.write(
    'SKIPPED aegis gate with shared rate limits: AEGIS_REDIS_URL is not set (scripts/services.sh)\n',
  )
}

type Started = GateProcess

const running: ChildProcess[] = []

/** A gate that also printed where its budgets live (the line after "listening on"). */
async function startGate(cwd: string, args: string[], env: Record<string, string>): Promise<Started> {
  const gate = await startGateProcess(cwd, args, env, /Rate limits shared through Redis/)
  running.push(gate.child)
  return gate
}

function get(port: number, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
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

describe.skipIf(REDIS === undefined)('aegis gate × 3 on one Redis', () => {
  let upstream: TestUpstream
  let dir: string
  let flags: string[]
  let token: string
  beforeAll(async () => {
    upstream = await startUpstream()
    dir = tempDir()
    const caFile = join(dir, 'ca.pem')
    writeFileSync(caFile, testPki().caCert)
    flags = ['--upstream-ca', caFile, '--resolve', `api.example.test:443:127.0.0.1:${upstream.port}`]
    expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
    const added = await runCli(
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
      { cwd: dir, input: 'ghp_shared_limits_cli_secret' },
    )
    expect(added.code, added.stderr).toBe(0)
    const agent = await runCli(['agent', 'add', '--name', 'five', '--rate-limit', '5/min', '--json'], {
      cwd: dir,
    })
    expect(agent.code, agent.stderr).toBe(0)
    token = JSON.parse(agent.stdout).token
    expect(
      (await runCli(['agent', 'grant', '--agent', 'five', '--credential', 'gh'], { cwd: dir })).code,
    ).toBe(0)
  })
  afterEach(() => {
    for (const child of running.splice(0)) child.kill('SIGKILL')
  })
  afterAll(async () => {
    await upstream.close()
    removeDir(dir)
  })

  it('a 5/min agent limit allows exactly 5 of a burst spread across three gates; every request is one ledger row', async () => {
    const env = { AEGIS_REDIS_URL: REDIS as string }
    // A prefix of its own, so earlier runs on the same Redis do not count.
    const prefix = `cli-test-${process.pid}-${Date.now()}:`
    const file = join(dir, 'aegis.config.yaml')
    const starter = readFileSync(file, 'utf8')
    expect(starter).toContain('prefix: "aegis:rate:"')
    writeFileSync(file, starter.replace('prefix: "aegis:rate:"', `prefix: "${prefix}"`))
    const gates = await Promise.all([0, 1, 2].map(() => startGate(dir, flags, env)))
    expect(gates[0]?.output()).toContain(`prefix "${prefix}", failure mode closed`)
    const before = upstream.received.length
    const replies = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        get((gates[i % 3] as Started).port, '/github/user', { 'X-Aegis-Agent': token }),
      ),
    )
    expect(replies.filter((r) => r.status === 200)).toHaveLength(5)
    expect(replies.filter((r) => r.status === 429 && r.code === 'rate_limited')).toHaveLength(10)
    expect(upstream.received.length - before).toBe(5)
    for (const g of gates) g.child.kill('SIGTERM')
    await Promise.all(gates.map((g) => new Promise((r) => g.child.once('exit', r))))
    const shown = await runCli(['ledger', 'show', '--agent', 'five', '--limit', '100', '--json'], {
      cwd: dir,
    })
    const rows = JSON.parse(shown.stdout) as Array<{ decision: string; code: string | null }>
    expect(rows.filter((r) => r.decision === 'allowed')).toHaveLength(5)
    expect(rows.filter((r) => r.code === 'rate_limited')).toHaveLength(10)
  })

  it('a gate whose Redis is down says so at start, refuses what needs a budget (503), serves the rest, and recovers', async () => {
    const redis = await PrivateRedis.start()
    const port = redis.port
    await redis.kill()
    const gate = await startGate(dir, flags, { AEGIS_REDIS_URL: `redis://127.0.0.1:${port}` })
    // The warning goes to stderr, right after the stdout line the start waited for.
    const warned =
      /Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer yet: until it does, requests that need a rate budget are refused/
    // oclif wraps warnings at the terminal width with " ›   " continuation marks.
    const text = () =>
      gate
        .output()
        .replace(/\s*›\s*/g, ' ')
        .replace(/\s+/g, ' ')
    for (let i = 0; i < 40 && !warned.test(text()); i++) await new Promise((r) => setTimeout(r, 50))
    expect(text()).toMatch(warned)
    const limited = await get(gate.port, '/github/user', { 'X-Aegis-Agent': token })
    expect(limited).toEqual({ status: 503, code: 'rate_limit_unavailable' })
    // No agent token, no agent budget: served.
    expect((await get(gate.port, '/github/user', {})).status).toBe(200)
    await redis.start()
    let status = 0
    for (let i = 0; i < 80 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100))
      status = (await get(gate.port, '/github/user', { 'X-Aegis-Agent': token })).status
    }
    expect(status).toBe(200)
    await redis.kill()
  })
})

describe('aegis doctor: the redis check', () => {
  let dir: string
  beforeAll(async () => {
    dir = tempDir()
    expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
  })
  afterAll(() => removeDir(dir))

  const redisCheck = async (env: Record<string, string>) => {
    const result = await runCli(['doctor', '--json'], { cwd: dir, env })
    return (
      JSON.parse(result.stdout) as { checks: Array<{ name: string; status: string; message: string }> }
    ).checks.find((c) => c.name === 'redis')
  }

  it('passes, saying budgets are per gate, without a URL', async () => {
    expect(await redisCheck({})).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('not configured'),
    })
  })

  it('fails for a Redis that does not answer, without the password in the message', async () => {
    const check = await redisCheck({ AEGIS_REDIS_URL: 'redis://aegis:pw-s3cret-9@127.0.0.1:1' })
    expect(check?.status).toBe('fail')
    expect(check?.message).toContain('redis://aegis:***@127.0.0.1:1 does not answer')
    expect(check?.message).not.toContain('pw-s3cret-9')
  })

  it('says why a Redis does not answer (the connection error), not only that it did not in time', async () => {
    const check = await redisCheck({ AEGIS_REDIS_URL: 'redis://127.0.0.1:1' })
    expect(check?.status).toBe('fail')
    expect(check?.message).toContain('ECONNREFUSED')
  })

  it.skipIf(REDIS === undefined)(
    'a Redis that refuses the login says so and where the password goes, without it',
    async () => {
      // An ACL user Redis does not know: WRONGPASS, as for a wrong password.
      const url = new URL(REDIS as string)
      url.username = 'no-such-aegis-user'
      url.password = 'pw-s3cret-9'
      const check = await redisCheck({ AEGIS_REDIS_URL: url.toString() })
      expect(check?.status).toBe('fail')
      expect(check?.message).toContain(`redis://no-such-aegis-user:***@${url.host} refused the login`)
      expect(check?.message).toContain('WRONGPASS')
      expect(check?.message).toContain('AEGIS_REDIS_URL or rate_limit.redis.url')
      expect(check?.message).not.toContain('does not answer')
      expect(check?.message).not.toContain('pw-s3cret-9')
    },
  )

  it.skipIf(REDIS === undefined)('passes with the server version for a Redis that answers', async () => {
    const check = await redisCheck({ AEGIS_REDIS_URL: REDIS as string })
    expect(check?.status).toBe('pass')
    expect(check?.message).toMatch(/^Redis \d+\.\d+\.\d+ at redis:\/\/127\.0\.0\.1:\d+ answers/)
  })
})
