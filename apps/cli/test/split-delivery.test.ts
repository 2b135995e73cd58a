import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BIN, removeDir, runCli, tempDir } from './helpers/run-cli.js'
import { keyedWorkspace, snapshot } from './helpers/shamir.js'

/**
 * `vault split` prints the only copy of the key: when stdout cannot take the shares (a full disk, a
 * reader that went away), the split must not happen — the key stays where it was and the vault
 * opens with it, instead of a removed key and shares nobody saw.
 */
let dir: string
let masterKey: string

beforeEach(async () => {
  dir = tempDir()
  masterKey = await keyedWorkspace(dir)
}, 60_000)
afterEach(() => removeDir(dir))

interface Run {
  code: number | null
  stderr: string
}

/** Runs the CLI in `dir` with stdout on /dev/full, or on a pipe whose reader has already gone. */
function runWithBrokenStdout(args: readonly string[], stdout: 'full' | 'closed-pipe'): Promise<Run> {
  const fd = stdout === 'full' ? openSync('/dev/full', 'w') : null
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_COLOR: '1' },
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
