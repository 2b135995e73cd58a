// `aegis init --write-secrets` stages the config (holding the master key) beside its final place:
// an interrupt must not leave that copy behind, and one left by a process that could not clean up
// (SIGKILL, a power cut) is reported by `aegis doctor` and removed by the next `aegis init`.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { constants } from 'node:os'
import { join } from 'node:path'
import { scratchDatabase } from '@aegis/pg/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, removeDir, runCli, tempDir } from './helpers/run-cli.js'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const staged = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.tmp'))

const PG_URL = process.env.AEGIS_PG_URL
if (PG_URL === undefined) {
  process.stderr.write(
    'SKIPPED init interrupted while it waits for PostgreSQL: AEGIS_PG_URL is not set (scripts/services.sh)\n',
  )
}

/**
 * Runs `aegis init --write-secrets` on PostgreSQL through a relay that passes connections on until
 * the config (with its key) is staged, and holds the next one: init then waits with the staged file
 * on disk, and gets `signal` there.
 */
async function interruptInit(
  dir: string,
  signal: NodeJS.Signals,
): Promise<{ ended: boolean; staged: string[] }> {
  const db = await scratchDatabase(PG_URL as string)
  const target = new URL(db.url)
  const sockets: Socket[] = []
  let held: () => void = () => undefined
  const holding = new Promise<void>((resolve) => {
    held = resolve
  })
  const relay = createServer((socket) => {
    sockets.push(socket)
    if (staged(dir).length > 0) {
      held()
      return
    }
    const upstream = connect(Number(target.port), target.hostname)
    sockets.push(upstream)
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
  const relayed = new URL(db.url)
  relayed.host = `127.0.0.1:${(relay.address() as AddressInfo).port}`
  try {
    const child = spawn(process.execPath, [BIN, 'init', '--write-secrets'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        NO_COLOR: '1',
        AEGIS_PG_URL: relayed.toString(),
      },
      stdio: 'ignore',
    })
    // Ended by the signal: killed by it, or exit 128 + its number (what a shell reports for one).
    const exited = new Promise<boolean>((resolve) =>
      child.on('exit', (code, how) => resolve(how === signal || code === 128 + constants.signals[signal])),
    )
    await Promise.race([holding, exited])
    expect(staged(dir)).toHaveLength(1)
    child.kill(signal)
    const started = Date.now()
    const ended = await exited
    // At once, not after PostgreSQL's 5 s connect timeout.
    expect(Date.now() - started).toBeLessThan(2000)
    return { ended, staged: staged(dir) }
  } finally {
    for (const socket of sockets) socket.destroy()
    relay.close()
    await db.drop()
  }
}

describe('aegis init --write-secrets, interrupted', () => {
  it.skipIf(PG_URL === undefined).each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(
    '%s while the config is staged: the copy holding the key is removed, and the process ends by the signal',
    async (signal) => {
      const dir = tempDir()
      dirs.push(dir)
      expect(await interruptInit(dir, signal)).toEqual({ ended: true, staged: [] })
      expect(existsSync(join(dir, 'aegis.config.yaml'))).toBe(false)
    },
  )

  it('a copy left by a killed init is reported by doctor and removed by the next init', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const leftover = join(dir, '.aegis.config.yaml.0123456789ab.tmp')
    writeFileSync(leftover, 'vault:\n  master_key: "left-behind-master-key-0123456789abcdef"\n', {
      mode: 0o600,
    })
    const doctor = await runCli(['doctor'], { cwd: dir })
    expect(doctor.code).toBe(1)
    expect(doctor.stdout).toMatch(
      /FAIL +leftover files +left by an interrupted write, and may hold the master key: /,
    )
    expect(doctor.stdout).toContain(`${leftover} (delete them: rm ${leftover})`)
    expect(doctor.stdout + doctor.stderr).not.toContain('left-behind-master-key')
    const init = await runCli(['init', '--write-secrets'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    expect(init.stderr).toContain(`Warning: removed ${leftover}, left by an aegis init that was interrupted`)
    expect(existsSync(leftover)).toBe(false)
    expect(staged(dir)).toEqual([])
    expect(statSync(join(dir, 'aegis.config.yaml')).mode & 0o777).toBe(0o600)
    const after = await runCli(['doctor'], { cwd: dir })
    expect(after.stdout).toMatch(/ok +leftover files +no file left by an interrupted write/)
  })

  it('a staged file of another name (someone else’s) is not touched', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const other = join(dir, '.other.yaml.0123456789ab.tmp')
    writeFileSync(other, 'x')
    expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
    expect(existsSync(other)).toBe(true)
  })
})
