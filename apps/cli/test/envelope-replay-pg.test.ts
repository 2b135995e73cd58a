import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { scratchDatabase } from '@aegis/pg/testing'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { startGateProcess } from './helpers/gate-process.js'
import { removeDir, runCli, tempDir } from './helpers/run-cli.js'

// A vault in PostgreSQL: a secret's ciphertext saved before `aegis vault rotate` and written back
// with SQL (database access, no master key) must not reach the upstream from a running gate.

const PG_URL = process.env.AEGIS_PG_URL
if (PG_URL === undefined) {
  process.stderr.write(
    'SKIPPED a replayed secret ciphertext on PostgreSQL: AEGIS_PG_URL is not set (scripts/services.sh start DIR sets it)\n',
  )
}

const KEY = 'envelope-replay-pg-master-key-0123456789abcdef'
const OLD = 'old_secret_value_before_rotate_1111'
const NEW = 'new_secret_value_after_rotate_2222'

const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

function get(port: number, path: string): Promise<{ status: number; code: string | undefined; id: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d
      })
      res.on('end', () => {
        const code = res.headers['x-aegis-block'] as string | undefined
        const id = code === undefined ? '' : String((JSON.parse(body) as { instance?: string }).instance)
        resolve({ status: res.statusCode ?? 0, code, id })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

describe.skipIf(PG_URL === undefined)(
  'a rotated secret whose old ciphertext is put back (PostgreSQL)',
  () => {
    it('the running gate refuses (credential_unavailable, a ledger row, nothing forwarded); list and doctor name the table; reseal --confirm accepts', async () => {
      const db = await scratchDatabase(PG_URL as string)
      cleanups.push(() => db.drop())
      const client = new pg.Client({ connectionString: db.url })
      await client.connect()
      cleanups.push(() => client.end())
      const upstream: TestUpstream = await startUpstream()
      cleanups.push(() => upstream.close())
      const cwd = tempDir()
      cleanups.push(() => removeDir(cwd))
      const env = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY }
      expect((await runCli(['init'], { cwd, env })).code).toBe(0)
      const add = await runCli(
        [
          'vault',
          'add',
          '--name',
          'api',
          '--service',
          'api',
          '--secret',
          '-',
          '--domains',
          'api.example.test',
        ],
        { cwd, env, input: OLD },
      )
      expect(add.code, add.stderr).toBe(0)
      const saved = (
        await client.query<{ secret: Buffer }>("SELECT secret FROM aegis.credentials WHERE name = 'api'")
      ).rows[0]?.secret
      const rotate = await runCli(['vault', 'rotate', '--name', 'api', '--secret', '-'], {
        cwd,
        env,
        input: NEW,
      })
      expect(rotate.code, rotate.stderr).toBe(0)

      const caFile = join(cwd, 'ca.pem')
      writeFileSync(caFile, testPki().caCert)
      const gate = await startGateProcess(
        cwd,
        ['--upstream-ca', caFile, '--resolve', `api.example.test:443:127.0.0.1:${upstream.port}`],
        { ...env, AEGIS_LOG_LEVEL: 'warn' },
      )
      const child: ChildProcess = gate.child
      cleanups.push(() => {
        child.kill('SIGKILL')
      })
      expect((await get(gate.port, '/api/x')).status).toBe(200)
      expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${NEW}`)

      await client.query("UPDATE aegis.credentials SET secret = $1 WHERE name = 'api'", [saved])
      const forwarded = upstream.received.length
      let reply = await get(gate.port, '/api/x')
      for (let i = 0; i < 150 && reply.status === 200; i++) {
        await new Promise((r) => setTimeout(r, 100))
        reply = await get(gate.port, '/api/x')
      }
      expect(reply).toMatchObject({ status: 503, code: 'credential_unavailable' })
      // Until the gate reloaded it served the new secret; never the old one.
      for (const r of upstream.received.slice(forwarded))
        expect(r.headers.authorization).toBe(`Bearer ${NEW}`)
      expect(JSON.stringify(upstream.received)).not.toContain(OLD)
      let ledger: Array<{ decision: string; code: string | null }> = []
      for (let i = 0; i < 50 && ledger.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100))
        ledger = (
          await client.query<{ decision: string; code: string | null }>(
            'SELECT decision, code FROM aegis.ledger_entries WHERE request_id = $1',
            [reply.id],
          )
        ).rows
      }
      expect(ledger).toEqual([{ decision: 'blocked', code: 'credential_unavailable' }])

      const listed = await runCli(['vault', 'list'], { cwd, env })
      expect(listed.code).toBe(1)
      expect(listed.stderr).toContain('its credentials table does not match the set of rows Aegis last wrote')
      const doctor = await runCli(['doctor', '--json'], { cwd, env })
      const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; message: string }> })
        .checks
      expect(checks.find((c) => c.name === 'vault rows')?.message).toContain(
        'its credentials table is not the set of rows Aegis last wrote',
      )
      for (const out of [listed.stderr, doctor.stdout, gate.output()]) expect(out).not.toContain(OLD)

      const accepted = await runCli(['vault', 'reseal', '--confirm'], { cwd, env })
      expect(accepted.code, accepted.stderr).toBe(0)
      expect((await runCli(['vault', 'list'], { cwd, env })).code).toBe(0)
    })
  },
)
