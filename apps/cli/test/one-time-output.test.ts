import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ScratchDatabase, scratchDatabase } from '@aegis/pg/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { BIN, removeDir, runCli, tempDir } from './helpers/run-cli.js'
import { keyedWorkspace, snapshot } from './helpers/shamir.js'

/**
 * Output shown once — `vault split`'s shares, `user add` / `user regenerate-token`'s and `agent add`
 * / `agent regenerate`'s token, the key `init` generates — is the only copy: when stdout cannot take it (a full disk, a reader that went away), nothing may be
 * committed. Else a split removes the key with its shares unseen, and a first admin whose token was
 * lost ends bootstrap with nobody able to authenticate, for good.
 */
let dir: string
let masterKey: string

/** A keyed workspace (`dir`, `masterKey`) for each test of the calling describe. */
function keyedWorkspaceEach(): void {
  beforeEach(async () => {
    dir = tempDir()
    masterKey = await keyedWorkspace(dir)
  }, 60_000)
  afterEach(() => removeDir(dir))
}

interface Run {
  code: number | null
  stderr: string
}

/** Runs the CLI in `dir` with stdout on /dev/full, or on a pipe whose reader has already gone. */
function runWithBrokenStdout(
  args: readonly string[],
  stdout: 'full' | 'closed-pipe',
  env: Record<string, string> = {},
  cwd: string = dir,
): Promise<Run> {
  const fd = stdout === 'full' ? openSync('/dev/full', 'w') : null
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', ...env },
      stdio: ['ignore', fd ?? 'pipe', 'pipe'],
    })
    if (fd !== null) closeSync(fd)
    child.stdout?.destroy()
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

const SPLIT = ['vault', 'split', '--shares', '3', '--threshold', '2']

describe('vault split whose shares cannot be printed', () => {
  keyedWorkspaceEach()

  it.each([
    ['--json, stdout on a full disk', [...SPLIT, '--json'], 'full', 'ENOSPC'],
    ['text, stdout on a full disk', SPLIT, 'full', 'ENOSPC'],
    ['--json, stdout a closed pipe', [...SPLIT, '--json'], 'closed-pipe', 'EPIPE'],
    ['text, stdout a closed pipe', SPLIT, 'closed-pipe', 'EPIPE'],
  ] as const)(
    '%s: one-line error, exit 1, nothing changed, the key still opens the vault',
    async (_l, args, out, code) => {
      const before = snapshot(dir)
      const r = await runWithBrokenStdout(args, out)
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(
        `Error: Could not print the key shares (${code}), so the key was not split: nothing changed, the master key is where it was, and any share that was printed does not work\n`,
      )
      expect(snapshot(dir)).toEqual(before)
      expect(existsSync(join(dir, '.aegis', 'custody.json'))).toBe(false)
      expect(readFileSync(join(dir, 'aegis.config.yaml'), 'utf8')).toContain(`master_key: "${masterKey}"`)
      const list = await runCli(['vault', 'list', '--json'], { cwd: dir })
      expect(list.code, list.stderr).toBe(0)
      expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'slack-bot' }])
    },
  )

  it('a working stdout still gets one JSON document, and the split is committed', async () => {
    const r = await runCli([...SPLIT, '--json'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { threshold: number; shares: string[] }
    expect(out.threshold).toBe(2)
    expect(out.shares).toHaveLength(3)
    expect(existsSync(join(dir, '.aegis', 'custody.json'))).toBe(true)
    expect(readFileSync(join(dir, 'aegis.config.yaml'), 'utf8')).not.toContain(masterKey)
  })
})

describe('user add / regenerate-token whose token cannot be printed', () => {
  keyedWorkspaceEach()
  const USER_ADD = ['user', 'add', '--name', 'root', '--role', 'admin']

  it.each([
    ['--json, stdout on a full disk', [...USER_ADD, '--json'], 'full', 'ENOSPC'],
    ['text, stdout a closed pipe', USER_ADD, 'closed-pipe', 'EPIPE'],
  ] as const)(
    'the first admin, %s: not added, RBAC still off, nothing changed',
    async (_l, args, out, code) => {
      const before = snapshot(dir)
      const r = await runWithBrokenStdout(args, out)
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(
        `Error: Could not print the token (${code}), so it was not issued: no user was added, and RBAC is still off\n`,
      )
      expect(snapshot(dir)).toEqual(before)
      // Bootstrap goes on: the first admin can still be added, and its token works.
      const added = await runCli([...USER_ADD, '--json'], { cwd: dir })
      expect(added.code, added.stderr).toBe(0)
      const { token } = JSON.parse(added.stdout) as { token: string }
      const list = await runCli(['user', 'list', '--json'], { cwd: dir, env: { AEGIS_USER_TOKEN: token } })
      expect(list.code, list.stderr).toBe(0)
      expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'root', role: 'admin' }])
    },
  )

  it('regenerate-token of the last admin on a full disk: the old token still works', async () => {
    const added = await runCli([...USER_ADD, '--json'], { cwd: dir })
    const { token } = JSON.parse(added.stdout) as { token: string }
    const env = { AEGIS_USER_TOKEN: token }
    const r = await runWithBrokenStdout(['user', 'regenerate-token', '--name', 'root'], 'full', env)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'Error: Could not print the token (ENOSPC), so it was not issued: the old token still works\n',
    )
    const list = await runCli(['user', 'list'], { cwd: dir, env })
    expect(list.code, list.stderr).toBe(0)
    const again = await runCli(['user', 'regenerate-token', '--name', 'root', '--json'], { cwd: dir, env })
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({ name: 'root', role: 'admin', token: expect.any(String) })
  })
})

describe('agent add / regenerate whose token cannot be printed', () => {
  keyedWorkspaceEach()

  it.each([
    ['--json, stdout on a full disk', ['--json'], 'full', 'ENOSPC'],
    ['text, stdout a closed pipe', [], 'closed-pipe', 'EPIPE'],
  ] as const)('agent add, %s: the agent is not added', async (_l, extra, out, code) => {
    const r = await runWithBrokenStdout(['agent', 'add', '--name', 'bot', ...extra], out)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`Error: Could not print the token (${code}): the agent was not added\n`)
    const list = await runCli(['agent', 'list', '--json'], { cwd: dir })
    expect([list.code, JSON.parse(list.stdout)]).toEqual([0, []])
    expect((await runCli(['agent', 'add', '--name', 'bot'], { cwd: dir })).code).toBe(0)
  })

  it('agent regenerate on a full disk: says the agent is refused until regenerated again', async () => {
    const added = await runCli(['agent', 'add', '--name', 'bot', '--json'], { cwd: dir })
    const before = JSON.parse(added.stdout) as { prefix: string }
    const r = await runWithBrokenStdout(['agent', 'regenerate', '--name', 'bot'], 'full')
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'Error: Could not print the token (ENOSPC): the old token no longer works and the new one was not shown, so agent bot is refused until you run aegis agent regenerate --name bot again\n',
    )
    const list = await runCli(['agent', 'list', '--json'], { cwd: dir })
    expect((JSON.parse(list.stdout) as { prefix: string }[])[0]?.prefix).not.toBe(before.prefix)
  })
})

describe('init whose generated master key cannot be printed', () => {
  let fresh: string
  beforeEach(() => {
    fresh = tempDir()
  })
  afterEach(() => removeDir(fresh))

  it.each([
    ['--json, stdout on a full disk', ['init', '--json'], 'full', 'ENOSPC'],
    ['text, stdout a closed pipe', ['init'], 'closed-pipe', 'EPIPE'],
  ] as const)('%s: nothing is created, and init runs again', async (_l, args, out, code) => {
    const r = await runWithBrokenStdout(args, out, {}, fresh)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `Error: Could not print the new master key (${code}), so nothing was created: run aegis init again\n`,
    )
    expect(snapshot(fresh)).toEqual({})
    expect(existsSync(join(fresh, '.aegis'))).toBe(false)
    const again = await runCli(['init', '--json'], { cwd: fresh })
    expect(again.code, again.stderr).toBe(0)
    const { masterKey } = JSON.parse(again.stdout) as { masterKey: string }
    const list = await runCli(['vault', 'list', '--json'], {
      cwd: fresh,
      env: { AEGIS_MASTER_KEY: masterKey },
    })
    expect([list.code, list.stdout.trim()]).toEqual([0, '[]'])
  })

  it('the data directory made again for a kept config: taken back too', async () => {
    const first = await runCli(['init', '--json'], { cwd: fresh })
    expect(first.code, first.stderr).toBe(0)
    removeDir(join(fresh, '.aegis'))
    const r = await runWithBrokenStdout(['init'], 'full', {}, fresh)
    expect(r.stderr).toBe(
      'Error: Could not print the new master key (ENOSPC), so nothing was created: run aegis init again\n',
    )
    expect(existsSync(join(fresh, '.aegis'))).toBe(false)
  })
})

const adminUrl = pgTestUrl('apps/cli one-time-output.test.ts')

describe.skipIf(adminUrl === undefined)('init on PostgreSQL whose generated key cannot be printed', () => {
  it('takes the vault it made in the database back: init runs again, with a new key', async () => {
    const db: ScratchDatabase = await scratchDatabase(adminUrl as string)
    const fresh = tempDir()
    try {
      const env = { AEGIS_PG_URL: db.url }
      const r = await runWithBrokenStdout(['init', '--json'], 'full', env, fresh)
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(
        'Error: Could not print the new master key (ENOSPC), so nothing was created: run aegis init again\n',
      )
      expect(snapshot(fresh)).toEqual({})
      const again = await runCli(['init', '--json'], { cwd: fresh, env })
      expect(again.code, again.stderr).toBe(0)
      expect(JSON.parse(again.stdout)).toMatchObject({ engine: 'postgres', masterKey: expect.any(String) })
    } finally {
      removeDir(fresh)
      await db.drop()
    }
  }, 60_000)
})
