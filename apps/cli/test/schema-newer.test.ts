import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import { join } from 'node:path'
import { scratchDatabase } from '@aegis/pg/testing'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { type GateProcess, startGateProcess } from './helpers/gate-process.js'
import { BIN, removeDir, runCli, tempDir } from './helpers/run-cli.js'
import { Database } from './helpers/sqlite.js'

/**
 * A newer aegis migrates the store under a running gate (here: this test process, writing the
 * migration row a newer release's migration would leave). The gate must not go on writing rows in
 * its own layout into a schema it does not know: it stops within a couple of seconds, says why,
 * and exits 1.
 */

const PG_URL = process.env.AEGIS_PG_URL
// A migration of 2100: no release of this build knows it.
const FUTURE_MIGRATION = 4_102_444_800_000

function health(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/_aegis/health', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

async function exitWithin(gate: GateProcess, ms: number): Promise<number | null> {
  if (gate.child.exitCode !== null) return gate.child.exitCode
  const timer = setTimeout(() => gate.child.kill('SIGKILL'), ms)
  const [code] = (await once(gate.child, 'exit')) as [number | null]
  clearTimeout(timer)
  return code
}

describe('a gate whose store a newer aegis migrated', () => {
  const dirs: string[] = []
  const gates: GateProcess[] = []
  afterEach(() => {
    for (const gate of gates.splice(0)) gate.child.kill('SIGKILL')
    for (const dir of dirs.splice(0)) removeDir(dir)
  })

  it('SQLite: stops within 2 s of a migration it does not know in ledger.db, saying why (exit 1)', async () => {
    const dir = tempDir()
    dirs.push(dir)
    expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
    const gate = await startGateProcess(dir, [])
    gates.push(gate)
    expect(await health(gate.port)).toBe(200)
    const db = new Database(join(dir, '.aegis', 'ledger.db'))
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(
      'newer',
      FUTURE_MIGRATION,
    )
    db.close()
    const started = Date.now()
    expect(await exitWithin(gate, 5000)).toBe(1)
    expect(Date.now() - started).toBeLessThan(2500)
    expect(gate.output()).toMatch(
      /A newer aegis migrated the store under this gate \(the ledger \(.*ledger\.db\) holds a migration this aegis does not know\): stopped; upgrade aegis/,
    )
    await expect(health(gate.port)).rejects.toThrow()
  })

  it('SQLite: stops when the vault file was moved to a newer format', async () => {
    const dir = tempDir()
    dirs.push(dir)
    expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
    const gate = await startGateProcess(dir, [])
    gates.push(gate)
    const db = new Database(join(dir, '.aegis', 'vaults', 'default.db'))
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'format_version'").run()
    db.close()
    expect(await exitWithin(gate, 5000)).toBe(1)
    expect(gate.output()).toMatch(
      /vault "default" \(.*\) is in format 99; this aegis reads up to \d+\): stopped/,
    )
  })

  it('aegis mcp serve stops the same way (SQLite, streamable HTTP)', async () => {
    const dir = tempDir()
    dirs.push(dir)
    expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
    const child = spawn(process.execPath, [BIN, 'mcp', 'serve', '--transport', 'http', '--port', '0'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    const exited = once(child, 'exit') as Promise<[number | null]>
    try {
      const deadline = Date.now() + 20_000
      while (!/listening on/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(out).toMatch(/Aegis MCP server listening on/)
      const db = new Database(join(dir, '.aegis', 'ledger.db'))
      db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(
        'newer',
        FUTURE_MIGRATION,
      )
      db.close()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      const [code] = await exited
      clearTimeout(timer)
      expect(code).toBe(1)
      expect(out).toContain('A newer aegis migrated the store under this MCP server (the ledger (')
    } finally {
      child.kill('SIGKILL')
    }
  })

  it.skipIf(PG_URL === undefined)(
    'PostgreSQL: stops within 2 s of a migration it does not know (exit 1)',
    async () => {
      const db = await scratchDatabase(PG_URL as string)
      const dir = tempDir()
      dirs.push(dir)
      const env = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: 'schema-newer-test-master-key-0123456789abcdef' }
      try {
        expect((await runCli(['init'], { cwd: dir, env })).code).toBe(0)
        const gate = await startGateProcess(dir, [], env, /State shared through PostgreSQL/)
        gates.push(gate)
        expect(await health(gate.port)).toBe(200)
        const client = new pg.Client({ connectionString: db.url })
        await client.connect()
        await client.query('INSERT INTO aegis.__migrations_core (hash, created_at) VALUES ($1, $2)', [
          'newer',
          FUTURE_MIGRATION,
        ])
        await client.end()
        const started = Date.now()
        expect(await exitWithin(gate, 5000)).toBe(1)
        expect(Date.now() - started).toBeLessThan(2500)
        expect(gate.output()).toMatch(
          /the PostgreSQL schema of "core" at .* is newer than this aegis \(3 migrations applied, 2 known\)/,
        )
      } finally {
        await db.drop()
      }
    },
  )
})
