import type { ChildProcess } from 'node:child_process'
import { copyFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { scratchDatabase } from '@aegis/pg/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GateProcess, startGateProcess } from './helpers/gate-process.js'
import { removeDir, runCli, tempDir } from './helpers/run-cli.js'

/**
 * Two `aegis gate` processes on one PostgreSQL database, each in a workspace of its own (two hosts,
 * so neither reaches the other's admin socket). `aegis vault seal` on host A seals gate B too,
 * through the database; an unseal lifts the deployment's seal, and each gate that forgot its key
 * is unsealed on its own host.
 */

const PG_URL = process.env.AEGIS_PG_URL
if (PG_URL === undefined) {
  process.stderr.write(
    'SKIPPED seal shared through PostgreSQL: AEGIS_PG_URL not set (scripts/services.sh start DIR)\n',
  )
}

const MASTER_KEY = 'seal-shared-pg-test-master-key-0123456789abcdef'
const SECRET = 'ghp_seal_shared_pg_secret_value_42'

interface Reply {
  status: number
  code: string | undefined
  body: string
}

function get(port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d
      })
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          code: res.headers['x-aegis-block'] as string | undefined,
          body,
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function sealedWithin(port: number, ms: number): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < ms) {
    const health = JSON.parse((await get(port, '/_aegis/health')).body) as { sealed?: boolean }
    if (health.sealed === true) return Date.now() - start
    await sleep(25)
  }
  throw new Error(`gate on port ${port} still unsealed after ${ms} ms`)
}

describe.skipIf(PG_URL === undefined)(
  'aegis vault seal on PostgreSQL seals every gate on the database',
  () => {
    let db: { url: string; drop(): Promise<void> }
    const dirs: string[] = []
    const running: ChildProcess[] = []
    let gates: GateProcess[] = []
    let shares: string[] = []
    let base: Record<string, string>
    const cli = (i: number, args: string[], env: Record<string, string> = {}, input?: string) =>
      runCli(args, {
        cwd: dirs[i] as string,
        env: { ...base, ...env },
        ...(input !== undefined && { input }),
      })
    const ok = async (i: number, args: string[], env: Record<string, string> = {}, input?: string) => {
      const result = await cli(i, args, env, input)
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0)
      return result
    }
    const keyed = { AEGIS_MASTER_KEY: MASTER_KEY }

    beforeAll(async () => {
      db = await scratchDatabase(PG_URL as string)
      base = { AEGIS_PG_URL: db.url }
      for (let i = 0; i < 2; i++) {
        dirs.push(tempDir())
        await ok(i, ['init', '--json'], keyed)
      }
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
        keyed,
        SECRET,
      )
      const split = await ok(0, ['vault', 'split', '--shares', '3', '--threshold', '2', '--json'], keyed)
      shares = (JSON.parse(split.stdout) as { shares: string[] }).shares
      // Host B's holders unseal with the same split: its custody record goes to B's data dir.
      copyFileSync(
        join(dirs[0] as string, '.aegis', 'custody.json'),
        join(dirs[1] as string, '.aegis', 'custody.json'),
      )
      gates = await Promise.all(
        [0, 1].map((i) =>
          startGateProcess(dirs[i] as string, [], { ...base, ...keyed }, /State shared through PostgreSQL/),
        ),
      )
      running.push(...gates.map((g) => g.child))
    }, 60_000)
    afterAll(async () => {
      for (const child of running) child.kill('SIGKILL')
      await db?.drop()
      for (const dir of dirs) removeDir(dir)
    })

    it('gate B, on another host, seals within a second of aegis vault seal on host A', async () => {
      const [a, b] = gates as [GateProcess, GateProcess]
      for (const gate of gates) {
        expect(JSON.parse((await get(gate.port, '/_aegis/health')).body)).toMatchObject({
          sealed: false,
          credentials: 1,
        })
      }
      const seal = await ok(0, ['vault', 'seal', '--json'])
      expect(JSON.parse(seal.stdout)).toMatchObject({ sealed: true, gatesSealed: 1, sharedSealed: true })
      expect(await sealedWithin(b.port, 1500)).toBeLessThan(1500)
      for (const gate of [a, b]) {
        const refused = await get(gate.port, '/github/user')
        expect(refused.status).toBe(503)
        expect(refused.code).toBe('sealed')
        expect(JSON.parse((await get(gate.port, '/_aegis/health')).body)).toMatchObject({
          sealed: true,
          credentials: 0,
        })
        expect((await get(gate.port, '/_aegis/metrics')).body).toMatch(/^aegis_sealed 1$/m)
      }
      // Each gate recorded its own seal, once (A hears the database or its socket first, whichever
      // comes first); B names where it came from.
      await sleep(300)
      const system = await ok(0, ['ledger', 'show', '--system', '--json', '--limit', '100'], keyed)
      const sealed = (JSON.parse(system.stdout) as { event: string; detail: string }[]).filter(
        (e) => e.event === 'vault_sealed',
      )
      expect(sealed).toHaveLength(2)
      for (const entry of sealed) {
        expect(entry.detail).toMatch(
          /^sealed (for every gate on PostgreSQL|over the admin socket): requests are refused \(sealed\)$/,
        )
      }
      expect(b.output()).toContain('the vault is sealed (sealed for every gate on PostgreSQL)')
    })

    it('a gate started while the deployment is sealed starts sealed, even with the key at hand', async () => {
      const c = await startGateProcess(
        dirs[1] as string,
        [],
        { ...base, ...keyed },
        /State shared through PostgreSQL/,
      )
      running.push(c.child)
      try {
        expect((await get(c.port, '/github/user')).code).toBe('sealed')
        expect(JSON.parse((await get(c.port, '/_aegis/health')).body)).toMatchObject({
          sealed: true,
          credentials: 0,
        })
      } finally {
        c.child.kill('SIGTERM')
      }
      // aegis mcp serve has no admin socket to be unsealed through: it does not start.
      const mcp = await cli(1, ['mcp', 'serve', '--transport', 'http', '--port', '0'], keyed)
      expect(mcp.code).toBe(1)
      expect(mcp.stderr).toContain('The vault is sealed (aegis vault seal, or a split key not at hand)')
    })

    it('an unseal on host B unseals gate B and lifts the seal; gate A, which forgot its key, stays sealed until unsealed', async () => {
      const [a, b] = gates as [GateProcess, GateProcess]
      await ok(1, ['vault', 'unseal', '--key-share', '-', '--json'], {}, `${shares[0]}\n${shares[2]}\n`)
      expect(JSON.parse((await get(b.port, '/_aegis/health')).body)).toMatchObject({
        sealed: false,
        credentials: 1,
      })
      await sleep(1200)
      expect(JSON.parse((await get(a.port, '/_aegis/health')).body)).toMatchObject({ sealed: true })
      expect(JSON.parse((await get(b.port, '/_aegis/health')).body)).toMatchObject({ sealed: false })
      await ok(0, ['vault', 'unseal', '--key-share', '-'], {}, `${shares[1]}\n${shares[2]}\n`)
      expect(JSON.parse((await get(a.port, '/_aegis/health')).body)).toMatchObject({
        sealed: false,
        credentials: 1,
      })
      for (const gate of gates) expect(gate.output()).not.toContain(SECRET)
    })
  },
)
