import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, removeDir, runCli, tempDir } from './helpers/run-cli.js'

const KEY = 'stop-signals-master-key-0123456789'

const dirs: string[] = []
const children: ChildProcess[] = []
const servers: Server[] = []

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  for (const server of servers.splice(0)) server.close()
  for (const dir of dirs.splice(0)) removeDir(dir)
})

async function initialised(): Promise<string> {
  const dir = tempDir()
  dirs.push(dir)
  const init = await runCli(['init'], { cwd: dir, env: { AEGIS_MASTER_KEY: KEY } })
  expect(init.code, init.stderr).toBe(0)
  return dir
}

/** Spawns `aegis …args`; `onStdout` hears every chunk as it arrives (to signal at that instant). */
function spawnCli(
  cwd: string,
  args: readonly string[],
  env: Record<string, string>,
  onStdout: (all: string, child: ChildProcess) => void = () => undefined,
) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      NO_COLOR: '1',
      AEGIS_MASTER_KEY: KEY,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    onStdout(stdout, child)
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
  })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  return { child, exited, stdout: () => stdout, stderr: () => stderr }
}

/** SIGTERM sent from the very stdout chunk that carries the "listening" line. */
function termOnListening(all: string, child: ChildProcess): void {
  if (/listening on/.test(all) && !child.killed) child.kill('SIGTERM')
}

async function systemEvents(cwd: string): Promise<string[]> {
  const shown = await runCli(['ledger', 'show', '--json', '--limit', '100'], {
    cwd,
    env: { AEGIS_MASTER_KEY: KEY },
  })
  expect(shown.code, shown.stderr).toBe(0)
  const entries = JSON.parse(shown.stdout) as Array<{ decision: string; event?: string }>
  return entries
    .filter((e) => e.decision === 'system')
    .map((e) => e.event ?? '')
    .reverse()
}

/** The command exited 0 (not by the signal), said `stopped`, and the ledger holds `events`. */
async function stoppedCleanly(
  dir: string,
  run: ReturnType<typeof spawnCli>,
  stopped: string,
  events: readonly string[],
): Promise<void> {
  const [code, signal] = await run.exited
  expect({ code, signal }, run.stderr()).toEqual({ code: 0, signal: null })
  expect(run.stdout()).toContain(stopped)
  expect(await systemEvents(dir)).toEqual(events)
}

describe('a stop signal the instant a long-running command says it is listening', () => {
  it('aegis gate drains, records gate_stop and says it stopped', async () => {
    const dir = await initialised()
    const run = spawnCli(dir, ['gate', '--port', '0'], {}, termOnListening)
    await stoppedCleanly(dir, run, 'Aegis gate stopped', ['gate_start', 'gate_stop'])
  })

  it('aegis gate with dashboard.enabled, signalled while the dashboard still starts, stops both', async () => {
    const dir = await initialised()
    const file = join(dir, 'aegis.config.yaml')
    const text = readFileSync(file, 'utf8')
    const enabled = text
      .replace(/^ {2}enabled: false/m, '  enabled: true')
      .replace(/^ {2}port: 3200/m, '  port: 0')
    expect(enabled).not.toBe(text)
    writeFileSync(file, enabled)
    const run = spawnCli(dir, ['gate', '--port', '0'], {}, termOnListening)
    await stoppedCleanly(dir, run, 'Aegis gate stopped', ['gate_start', 'gate_stop'])
  })

  it('aegis mcp serve over HTTP records mcp_start and mcp_stop', async () => {
    const dir = await initialised()
    const run = spawnCli(dir, ['mcp', 'serve', '--transport', 'http', '--port', '0'], {}, termOnListening)
    await stoppedCleanly(dir, run, 'Aegis MCP server stopped', ['mcp_start', 'mcp_stop'])
  })

  it('aegis dashboard stops the gate and the dashboard cleanly', async () => {
    const dir = await initialised()
    const run = spawnCli(dir, ['dashboard', '--port', '0', '--gate-port', '0'], {}, (all, child) => {
      // The gate is up; the dashboard beside it is still loading.
      if (all.includes('Aegis gate listening on') && !child.killed) child.kill('SIGTERM')
    })
    await stoppedCleanly(dir, run, 'Aegis dashboard stopped', ['gate_start', 'gate_stop'])
  })
})

describe('a signal while the gate still starts (after its listening line, waiting for Redis)', () => {
  /** A Redis that accepts connections and never answers: the gate waits a second for it at start. */
  async function silentServer(): Promise<number> {
    const held: Socket[] = []
    const server = createServer((socket) => {
      held.push(socket)
    })
    server.on('close', () => {
      for (const socket of held) socket.destroy()
    })
    servers.push(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    return address.port
  }

  /** `aegis gate` in a fresh workspace, its Redis one that never answers. */
  async function gateWaitingForRedis(onStdout: (all: string, child: ChildProcess) => void) {
    const dir = await initialised()
    const port = await silentServer()
    const run = spawnCli(
      dir,
      ['gate', '--port', '0'],
      { AEGIS_REDIS_URL: `redis://127.0.0.1:${port}` },
      onStdout,
    )
    return { dir, run }
  }

  it('is acknowledged, and the gate stops cleanly once started', async () => {
    const { dir, run } = await gateWaitingForRedis(termOnListening)
    await stoppedCleanly(dir, run, 'Aegis gate stopped', ['gate_start', 'gate_stop'])
    expect(run.stderr()).toContain('SIGTERM received: the gate stops once started (again to quit now)')
  })

  it('a second Ctrl-C ends it at once (exit 130), as a start that hangs must allow', async () => {
    const { run } = await gateWaitingForRedis((all, child) => {
      if (!/listening on/.test(all) || child.killed) return
      child.kill('SIGINT')
      setTimeout(() => child.kill('SIGINT'), 100)
    })
    const [code, signal] = await run.exited
    expect({ code, signal }, run.stderr()).toEqual({ code: 130, signal: null })
    expect(run.stderr()).toContain('SIGINT received: the gate stops once started (again to quit now)')
    expect(run.stdout()).not.toContain('Aegis gate stopped')
  })
})
