import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from './helpers/free-port.js'
import { BIN, CLI_ROOT, removeDir, tempDir } from './helpers/run-cli.js'

/**
 * The README quick start, read from the README itself (the blocks after `<!-- quickstart:… -->`),
 * run as written in a fresh folder with `pnpm aegis` meaning the built bin: the setup block twice in
 * a row, then the offline variant (local demo upstream, `--upstream-ca`, `--resolve`) with one call
 * that succeeds, and the health endpoint. No network.
 */
const REPO = join(CLI_ROOT, '..', '..')
const README = readFileSync(join(REPO, 'README.md'), 'utf8')

/** The lines of the fenced block that follows `<!-- quickstart:<name>`. */
function block(name: string): string[] {
  const at = README.indexOf(`<!-- quickstart:${name}`)
  if (at < 0) throw new Error(`README has no quickstart:${name} block`)
  const fence = README.indexOf('```sh\n', at)
  const end = README.indexOf('\n```', fence + 6)
  return README.slice(fence + 6, end)
    .split('\n')
    .filter(Boolean)
}

/** A README line as this machine runs it: `pnpm aegis` is the built bin, repo paths are absolute. */
function local(line: string): string {
  return line
    .replaceAll('pnpm aegis', `node "${BIN}"`)
    .replace(/node scripts\/(\S+)/, (_, file: string) => `node "${REPO}/scripts/${file}"`)
}

const dir = tempDir()
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_COLOR: '1' }
const children: ChildProcess[] = []
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
  removeDir(dir)
})

function sh(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Starts a long-running README line in the background; resolves with its output once `ready` matches. */
async function background(command: string, ready: RegExp): Promise<RegExpExecArray> {
  const child = spawn('sh', ['-c', `exec ${command}`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${command}\n${out}`)), 20_000)
    const check = (d: string) => {
      out += d
      const match = ready.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(match)
      }
    }
    child.stdout.setEncoding('utf8').on('data', check)
    child.stderr.setEncoding('utf8').on('data', check)
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${command}\n${out}`)))
  })
}

describe('the README quick start', () => {
  const setup = block('setup')
  const steps = setup.filter((line) => !/^pnpm aegis gate\b/.test(line))

  it('has the setup steps and the gate start we expect to run', () => {
    expect(steps.length).toBeGreaterThanOrEqual(2)
    expect(setup.at(-1)).toMatch(/^pnpm aegis gate$/)
  })

  it.each([1, 2])('setup run %i succeeds (the second keeps what the first made)', async (run) => {
    for (const line of steps) {
      const result = await sh(local(line))
      expect(result.code, `${line}\n${result.stderr}`).toBe(0)
      if (run === 2) expect(result.stdout, line).toMatch(/kept as it is/)
    }
  })

  it('offline: the demo upstream, the gate with --upstream-ca and --resolve, and one call that succeeds', async () => {
    const [upstreamLine, gateLine, callLine] = block('offline')
    const upstreamPort = await freePort()
    const withPort = (line: string) => line.replaceAll('8443', String(upstreamPort))
    await background(local(withPort(upstreamLine ?? '').replace(/\s*&$/, '')), /demo upstream: /)
    const [, gatePort] = await background(
      `${local(withPort(gateLine ?? ''))} --port 0`,
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    )
    const call = await sh((callLine ?? '').replaceAll('127.0.0.1:3100', `127.0.0.1:${gatePort}`))
    expect(call.code, call.stderr).toBe(0)
    const answer = JSON.parse(call.stdout) as Record<string, unknown>
    expect(answer).toMatchObject({
      ok: true,
      method: 'GET',
      path: '/hello',
      authorization: 'Bearer [REDACTED]',
    })
    expect(call.stdout).not.toContain('demo-secret')

    const health = await sh(`curl -s http://127.0.0.1:${gatePort}/_aegis/health`)
    expect(JSON.parse(health.stdout)).toMatchObject({ status: 'ok', credentials: 1 })
  })
})
