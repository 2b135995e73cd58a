import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateProcess } from './helpers/gate-process.js'
import { BIN, CLI_ROOT, initProject, type Project, runCli } from './helpers/run-cli.js'

// What a command loads is most of its start time (issue 18: `vault list` took 0.6 s, of which
// pg, drizzle's pg-core, the ledger, webhooks and undici were a third). Timing tests are flaky, so
// this pins the cause instead: which packages a command loads, recorded by a module tracer.

const TRACER = pathToFileURL(join(CLI_ROOT, 'test', 'fixtures', 'module-trace.mjs')).href
const COLLATOR_TRACER = pathToFileURL(join(CLI_ROOT, 'test', 'fixtures', 'collator-trace.mjs')).href

/** The package of a module file: `@aegis/<pkg>` for a workspace package, else its npm name. */
function packageOfModule(file: string): string {
  const path = file.replace(/^file:\/\//, '')
  const workspace = /(?:^|\/)packages\/([^/]+)\/dist\//.exec(path)
  if (workspace) return `@aegis/${workspace[1]}`
  const dep = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path)
  if (!dep) return path.includes('/apps/cli/') || !path.startsWith('/') ? '@aegis/cli' : path
  // drizzle-orm is one package with an entry per engine: the engine is what matters here.
  if (dep[1] === 'drizzle-orm') return `drizzle-orm/${dep[2]?.split('/')[0]}`
  return dep[1] as string
}

/**
 * The CLI is bundled (tsup.config.ts): a file of apps/cli/dist holds the code of many modules,
 * inlined workspace packages and npm packages among them. esbuild's metafile says which modules
 * each output file contains (those that kept bytes in it), so a loaded bundle file stands for
 * the packages of its modules.
 */
const bundled = new Map<string, Set<string>>()
const metafile = JSON.parse(readFileSync(join(CLI_ROOT, 'dist', 'metafile-esm.json'), 'utf8')) as {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>
}
for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
  const packages = Object.entries(inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([input]) => packageOfModule(input))
  bundled.set(pathToFileURL(join(CLI_ROOT, output)).href, new Set(['@aegis/cli', ...packages]))
}

/** The packages whose code a loaded file holds. */
function packagesOf(file: string): string[] {
  return [...(bundled.get(file) ?? [packageOfModule(file)])]
}

interface Traced {
  code: number | null
  stdout: string
  stderr: string
  packages: Set<string>
  files: string[]
}

async function traced(project: Project, args: string[]): Promise<Traced> {
  const out = join(project.dir, `trace-${args.join('-')}.txt`)
  rmSync(out, { force: true })
  const r = await runCli(args, {
    cwd: project.dir,
    env: { ...project.env, NODE_OPTIONS: `--import ${TRACER}`, AEGIS_TEST_MODULE_TRACE: out },
  })
  const files = readFileSync(out, 'utf8').split('\n').filter(Boolean)
  return { ...r, files, packages: new Set(files.flatMap(packagesOf)) }
}

/** Loaded only by the commands that use them: the gate, PostgreSQL, Redis, MCP, metrics, webhooks. */
const HEAVY = [
  'pg',
  'pg-pool',
  'drizzle-orm/node-postgres',
  '@aegis/pg',
  '@aegis/ledger',
  '@aegis/webhooks',
  '@aegis/proxy',
  '@aegis/inspect',
  '@aegis/policy',
  '@aegis/telemetry',
  '@aegis/mcp',
  '@aegis/redis-rate-limit',
  'undici',
  'prom-client',
  '@modelcontextprotocol/sdk',
  '@redis/client',
  'csv-stringify',
  'pino',
  'ws',
]

/** One SQLite workspace for every test of this file. */
let project: Project
beforeAll(async () => {
  project = await initProject()
})
afterAll(() => {
  if (project) rmSync(project.dir, { recursive: true, force: true })
})

describe('what a command loads (SQLite workspace)', () => {
  it('the tracer sees what a command loads (it would catch a heavy package)', async () => {
    const r = await traced(project, ['ledger', 'show'])
    expect(r.code).toBe(0)
    expect(r.packages).toContain('@aegis/ledger')
    expect(r.packages).toContain('better-sqlite3')
  })

  it('--version loads nothing but bin/run.js (not oclif) and prints oclif’s line', async () => {
    const r = await traced(project, ['--version'])
    expect(r.code).toBe(0)
    const arch = process.arch === 'ia32' ? 'x86' : process.arch
    expect(r.stdout).toBe(`@aegis/cli/0.1.0 ${process.platform}-${arch} node-${process.version}\n`)
    expect([...r.packages]).toEqual(['@aegis/cli'])
    expect(r.files.filter((f) => f.includes('/apps/cli/'))).toEqual([
      pathToFileURL(join(CLI_ROOT, 'bin', 'run.js')).href,
    ])
  })

  it('a plain gate (SQLite, no Redis, no MCP) loads neither the Redis client nor PostgreSQL state nor MCP', async () => {
    const out = join(project.dir, 'trace-gate.txt')
    rmSync(out, { force: true })
    const gate = await startGateProcess(project.dir, [], {
      ...project.env,
      NODE_OPTIONS: `--import ${TRACER}`,
      AEGIS_TEST_MODULE_TRACE: out,
    })
    const exited = new Promise((resolve) => gate.child.once('exit', resolve))
    gate.child.kill('SIGINT')
    await exited
    const packages = new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean).flatMap(packagesOf))
    expect(packages).toContain('@aegis/proxy') // the tracer saw the gate
    const gateHeavy = [
      '@aegis/redis-rate-limit',
      '@redis/client',
      '@aegis/pg',
      'drizzle-orm/node-postgres',
      '@aegis/mcp',
      '@modelcontextprotocol/sdk',
      'ws',
    ]
    expect(gateHeavy.filter((p) => packages.has(p))).toEqual([])
  })

  it.each([
    [['vault', 'list']],
    [['vault', 'vaults']],
    [['agent', 'list']],
    [['user', 'list']],
    [['config', 'validate']],
    [['config', 'show']],
  ])('%j loads none of the heavy packages, and one command module (the manifest, no scan)', async (args) => {
    const r = await traced(project, args)
    expect(r.code, r.stderr).toBe(0)
    expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([])
    // The workspace libraries are inlined in the bundle: none of their files is loaded one by one.
    expect(r.files.filter((f) => /\/packages\/[^/]+\/dist\//.test(f))).toEqual([])
    const commands = r.files.filter((f) => f.includes('/apps/cli/dist/commands/'))
    expect(commands).toEqual([`${pathToFileURL(join(CLI_ROOT, 'dist', 'commands', ...args)).href}.js`])
  })
})

// zod 4 exports all of its ~50 message locales from one module: 358 KB of the chunk every command
// loads. build/zod-locales.ts keeps English only (the messages zod uses by default).
describe("zod's messages in the bundle", () => {
  it('the bundle holds the English locale and no other', () => {
    const files = new Set<string>()
    let stubbed = false
    for (const { inputs } of Object.values(metafile.outputs))
      for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
        if (bytesInOutput === 0 || !/\/zod\/v4\/locales\//.test(input)) continue
        // The plugin's one-line index (its own namespace) stands in for zod's, which imports them all.
        if (input.startsWith('aegis-zod-locales:')) stubbed = true
        else files.add(input.replace(/.*\/locales\//, ''))
      }
    expect(stubbed).toBe(true)
    expect([...files]).toEqual(['en.js'])
  })

  it('a config error still reads in zod’s English words', async () => {
    const dir = join(project.dir, 'bad-config')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'aegis.config.yaml'), 'gate:\n  port: "abc"\n')
    const r = await runCli(['config', 'validate'], { cwd: dir, env: project.env })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('gate.port: expected number, received string')
  })
})

// oclif sorted the command ids with `localeCompare` at every start: an ICU collator, ~8 ms and
// ~1.6 MB resident for the gate's whole life (patches/@oclif__core@4.14.0.patch sorts by code unit).
describe('no ICU collator at start', () => {
  const collations = (file: string): string[] => {
    try {
      return readFileSync(file, 'utf8').split('\n').filter(Boolean)
    } catch {
      return []
    }
  }
  const traceEnv = (file: string) => ({
    ...project.env,
    NODE_OPTIONS: `--import ${COLLATOR_TRACER}`,
    AEGIS_TEST_COLLATOR_TRACE: file,
  })

  it('the tracer records a localeCompare (it would catch one at start)', () => {
    const out = join(project.dir, 'collator-control.txt')
    const r = spawnSync(process.execPath, ['-e', "['b', 'a'].sort((x, y) => x.localeCompare(y))"], {
      env: traceEnv(out),
      encoding: 'utf8',
    })
    expect(r.status, r.stderr).toBe(0)
    expect(collations(out)[0]).toMatch(/^localeCompare /)
  })

  it.each([[['vault', 'list']], [['help']]])('%j builds no collator', async (args) => {
    const out = join(project.dir, `collator-${args.join('-')}.txt`)
    const r = await runCli(args, { cwd: project.dir, env: traceEnv(out) })
    expect(r.code, r.stderr).toBe(0)
    expect(collations(out)).toEqual([])
  })

  it('the gate starts and stops without one', async () => {
    const out = join(project.dir, 'collator-gate.txt')
    const gate = await startGateProcess(project.dir, [], traceEnv(out))
    const exited = new Promise((resolve) => gate.child.once('exit', resolve))
    gate.child.kill('SIGINT')
    await exited
    expect(collations(out)).toEqual([])
  })
})

// PBKDF2 (~0.1 s of CPU) was a third of `vault list`'s start. bin/run.js starts it on the thread
// pool before oclif loads (src/lib/key-prefetch.ts), so the event loop never derives the key
// itself: a main-thread CPU profile of the command holds no `pbkdf2Sync`.
describe('the vault key is derived off the event loop', () => {
  /** The main thread's functions while `aegis <args>` ran, from a V8 CPU profile. */
  function profiledFunctions(args: string[], cwd = project.dir): Set<string> {
    const dir = join(project.dir, `profile-${args.join('-').replace(/[^a-z0-9-]/gi, '_')}`)
    rmSync(dir, { recursive: true, force: true })
    const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: project.dir, NO_COLOR: '1', ...project.env },
      encoding: 'utf8',
    })
    expect(r.status, r.stderr).toBe(0)
    const [file] = readdirSync(dir)
    const profile = JSON.parse(readFileSync(join(dir, file as string), 'utf8')) as {
      nodes: Array<{ callFrame: { functionName: string } }>
    }
    return new Set(profile.nodes.map((n) => n.callFrame.functionName))
  }

  it('the profile shows a derivation on the event loop (doctor opens the vault without a head start)', () => {
    expect(profiledFunctions(['doctor'])).toContain('pbkdf2Sync')
  })

  it.each([[['vault', 'list']], [['agent', 'list']], [['vault:list', '--json']]])(
    '%j opens the vault without deriving on the event loop',
    (args) => {
      expect(profiledFunctions(args)).not.toContain('pbkdf2Sync')
    },
  )

  it('--help on such a command starts nothing: no config is loaded, no key derived', async () => {
    const r = await traced(project, ['vault', 'list', '--help'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('USAGE')
    expect(r.packages).not.toContain('@aegis/config')
    expect(r.packages).not.toContain('@aegis/vault')
  })

  it('--config <file> and --config=<file> from another folder are followed too', () => {
    const elsewhere = join(project.dir, 'elsewhere')
    mkdirSync(elsewhere, { recursive: true })
    const config = join(project.dir, 'aegis.config.yaml')
    expect(profiledFunctions(['vault', 'list', '--config', config], elsewhere)).not.toContain('pbkdf2Sync')
    expect(profiledFunctions(['agent', 'list', `--config=${config}`], elsewhere)).not.toContain('pbkdf2Sync')
  })
})
