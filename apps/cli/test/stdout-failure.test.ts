import { execFileSync, spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, type CliResult, initProject, type Project, removeDir } from './helpers/run-cli.js'

/**
 * A command whose standard output cannot be written (`> /dev/full`, a full disk under `> file`)
 * says so in one line and exits 1. oclif's stdout listener rethrew the error: an uncaught exception
 * with a stack trace. Output shown once has its own tests (one-time-output.test.ts).
 */
let p: Project

beforeAll(async () => {
  p = await initProject()
  const ledger = openLedger({ file: join(p.dataDir, 'ledger.db') })
  await ledger.system('gate_start', 'listening on http://127.0.0.1:3100')
  await ledger.close()
}, 60_000)
afterAll(() => removeDir(p.dir))

/** Runs the CLI in the project with stdout on /dev/full. */
function runOnFullDisk(args: readonly string[]): Promise<Pick<CliResult, 'code' | 'stderr'>> {
  const fd = openSync('/dev/full', 'w')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: p.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: p.dir, NO_COLOR: '1', ...p.env },
      stdio: ['ignore', fd, 'pipe'],
    })
    closeSync(fd)
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

describe('stdout on a full disk', () => {
  it.each([
    [['vault', 'list']],
    [['vault', 'list', '--json']],
    [['ledger', 'show']],
    [['ledger', 'show', '--json']],
    [['ledger', 'export', '-f', 'jsonl']],
    [['ledger', 'export', '-f', 'csv']],
    [['config', 'show']],
  ])('%j: one line on stderr, exit 1, no stack', async (args) => {
    const r = await runOnFullDisk(args)
    expect([r.code, r.stderr]).toEqual([
      1,
      'Error: Cannot write to standard output (ENOSPC: no space left on device): the output is incomplete\n',
    ])
  })
})

/** A tmpfs of 64 KiB, full: null where this process may not mount. */
function fullDisk(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-cli-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    rmSync(dir, { recursive: true, force: true })
    return null
  }
  try {
    for (let i = 0; ; i++) writeFileSync(join(dir, `filler-${i}`), Buffer.alloc(4096))
  } catch {}
  return dir
}

describe('ledger export -o on a full disk', () => {
  it('names the file and the full disk, and leaves no partial file', async (ctx) => {
    const disk = fullDisk()
    if (disk === null) return ctx.skip()
    try {
      const out = join(disk, 'audit.json')
      const r = await p.run(['ledger', 'export', '-f', 'json', '-o', out])
      expect([r.code, r.stderr, r.stdout]).toEqual([
        1,
        `Error: Cannot write ${out}: no space left on the device; choose another path with -o\n`,
        '',
      ])
      expect(readdirSync(disk).filter((name) => !name.startsWith('filler-'))).toEqual([])
    } finally {
      execFileSync('umount', [disk])
      rmSync(disk, { recursive: true, force: true })
    }
  })
})
