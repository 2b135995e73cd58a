import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, removeDir, runCli, tempDir } from './helpers/run-cli.js'

const KEY = 'inspector-signal-master-key-0123456789'

const dirs: string[] = []
const children: ChildProcess[] = []

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  for (const dir of dirs.splice(0)) removeDir(dir)
})

/**
 * Any process of the same user — an agent included — can send SIGUSR1, which opens Node's inspector
 * (no authentication) in a process that holds the master key and the decrypted secrets. The CLI's
 * Node runs with `--inspect-port=0` here: an inspector that opens says so on stderr, on a free port.
 */
describe('SIGUSR1 never opens the inspector of a long-running command', () => {
  it.each([
    ['aegis gate', ['gate', '--port', '0']],
    ['aegis mcp serve', ['mcp', 'serve', '--transport', 'http', '--port', '0']],
    ['aegis dashboard', ['dashboard', '--port', '0', '--gate-port', '0']],
  ])('%s keeps serving, stops cleanly, and no debugger listens', async (_, args) => {
    const dir = tempDir()
    dirs.push(dir)
    const init = await runCli(['init'], { cwd: dir, env: { AEGIS_MASTER_KEY: KEY } })
    expect(init.code, init.stderr).toBe(0)
    const child = spawn(process.execPath, ['--inspect-port=0', BIN, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_COLOR: '1', AEGIS_MASTER_KEY: KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let out = ''
    const listening = new Promise<void>((resolve) => {
      const hear = (d: string) => {
        out += d
        if (/listening on/.test(out)) resolve()
      }
      child.stdout.setEncoding('utf8').on('data', hear)
      child.stderr.setEncoding('utf8').on('data', hear)
    })
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    await listening
    child.kill('SIGUSR1')
    // The inspector, when it opens, says so within milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(child.exitCode, out).toBeNull()
    child.kill('SIGTERM')
    const [code, signal] = await exited
    expect({ code, signal }, out).toEqual({ code: 0, signal: null })
    expect(out).not.toMatch(/Debugger listening|inspector/i)
  })
})
