import { type ChildProcess, spawn } from 'node:child_process'
import { BIN } from './run-cli.js'

export interface GateProcess {
  child: ChildProcess
  /** The port from the "listening on" line. */
  port: number
  /** Everything it printed so far, stdout and stderr. */
  output(): string
}

/**
 * Starts `aegis gate --port 0 …args` in `cwd` with a clean environment plus `env`, and resolves
 * once it printed its "listening on" line (and, with `ready`, a line matching it too). Rejects
 * with the output when the gate exits first or does not get there within 20 s. The caller kills it.
 */
export async function startGateProcess(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
  ready?: RegExp,
): Promise<GateProcess> {
  const child = spawn(process.execPath, [BIN, 'gate', '--port', '0', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gate did not start:\n${out}`)), 20_000)
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(out)
      if (match && (ready === undefined || ready.test(out))) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`gate exited ${code}:\n${out}`))
    })
  })
  return { child, port, output: () => out }
}
