import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** apps/cli */
export const CLI_ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The built entry point the tests run (`pnpm build` first; turbo's @aegis/cli#test depends on build). */
export const BIN = join(CLI_ROOT, 'bin', 'run.js')

if (!existsSync(join(CLI_ROOT, 'dist', 'commands')) || !existsSync(join(CLI_ROOT, 'oclif.manifest.json'))) {
  throw new Error('apps/cli is not built: run `pnpm exec turbo run build --filter=@aegis/cli...` first')
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  cwd: string
  /** Variables on top of a minimal PATH/HOME environment (nothing is inherited from the test). */
  env?: Record<string, string | undefined>
  /** Written to stdin, which is then closed (stdin is never a terminal here). */
  input?: string
}

/** Runs `node bin/run.js …args` in `cwd` with a controlled environment. */
export function runCli(args: readonly string[], opts: RunOptions): Promise<CliResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: opts.cwd,
    NO_COLOR: '1',
  }
  for (const [key, value] of Object.entries(opts.env ?? {})) if (value !== undefined) env[key] = value
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
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
    child.stdin.end(opts.input ?? '')
  })
}

/** A fresh, empty temp directory (real path, so it compares equal to what the CLI prints). */
export function tempDir(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), 'aegis-cli-test-')))
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** Every regular file under `dir` (recursive), as paths relative to `dir`. */
export function listFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile()) out.push(relative(dir, path))
    }
  }
  if (existsSync(dir)) walk(dir)
  return out.sort()
}

/** `relative path → sha256:mode` for every file under `dir`: compare two snapshots to prove nothing changed. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const file of listFiles(dir)) {
    const path = join(dir, file)
    const hash = createHash('sha256').update(readFileSync(path)).digest('hex')
    out[file] = `${hash}:${(statSync(path).mode & 0o777).toString(8)}`
  }
  return out
}

/** Parses the only JSON document on stdout (fails the test with the output when it is not JSON). */
export function parseJson<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

/** A project initialised with `aegis init` (key in the environment, not in the file). */
export interface Project {
  dir: string
  dataDir: string
  key: string
  env: Record<string, string>
  run(
    args: readonly string[],
    extra?: { env?: Record<string, string | undefined>; input?: string },
  ): Promise<CliResult>
}

/** Runs `aegis init --json` in a new temp dir and returns a runner with AEGIS_MASTER_KEY set. */
export async function initProject(): Promise<Project> {
  const dir = tempDir()
  const init = await runCli(['init', '--json'], { cwd: dir })
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`)
  const { masterKey, dataDir } = parseJson<{ masterKey: string; dataDir: string }>(init)
  const env = { AEGIS_MASTER_KEY: masterKey }
  return {
    dir,
    dataDir,
    key: masterKey,
    env,
    run: (args, extra = {}) => runCli(args, { cwd: dir, env: { ...env, ...extra.env }, input: extra.input }),
  }
}

/** Adds a credential with the secret on stdin; throws on failure. */
export async function addCredential(
  project: Project,
  args: readonly string[],
  secret: string,
): Promise<void> {
  const result = await project.run(['vault', 'add', ...args, '--secret', '-'], { input: `${secret}\n` })
  if (result.code !== 0) throw new Error(`vault add failed: ${result.stderr}`)
}
