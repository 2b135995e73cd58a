import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, initProject, listFiles, type Project, removeDir, runCli, tempDir } from './helpers/run-cli.js'

/** The first ten minutes of a new user, each through the built bin. */

/** oclif wraps its own errors at 80 columns behind " ›   ": one line to match against. */
const unwrap = (text: string) =>
  text
    .replace(/\s*›\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()

describe('a folder without a workspace', () => {
  let dir: string
  beforeAll(() => {
    dir = tempDir()
  })
  afterAll(() => removeDir(dir))

  // Every command that reads a workspace, and the ones that would write into one.
  it.each([
    ['ledger', 'show'],
    ['ledger', 'stats'],
    ['ledger', 'export', '-f', 'json'],
    ['vault', 'list'],
    ['vault', 'vaults'],
    ['agent', 'list'],
    ['config', 'show'],
    ['vault', 'add', '--name', 'x', '--service', 'x', '--domains', 'api.x.example', '--secret', '-'],
    ['agent', 'add', '--name', 'bot'],
    ['gate', '--port', '0'],
    ['mcp', 'serve'],
    ['run', '--', 'true'],
  ])('%s %s says there is no workspace here (exit 1) and creates nothing', async (...args) => {
    const result = await runCli(args, {
      cwd: dir,
      env: { AEGIS_MASTER_KEY: 'k'.repeat(43), AEGIS_AGENT_TOKEN: `aegis_${'A'.repeat(43)}` },
      input: 'secret-value\n',
    })
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toBe(
      `Error: No Aegis workspace here: no aegis.config.yaml in ${dir} and no data directory ${join(dir, '.aegis')} — run aegis init (or pass --config / set AEGIS_CONFIG)\n`,
    )
    expect(result.stdout).toBe('')
    expect(listFiles(dir)).toEqual([])
  })

  it('policy commands without --policies-dir say there is no config here to name one', async () => {
    for (const args of [
      ['policy', 'list'],
      ['policy', 'validate'],
    ]) {
      const result = await runCli(args, { cwd: dir })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('there is no aegis.config.yaml here')
    }
    expect(listFiles(dir)).toEqual([])
  })

  it('the missing-key advice before init is to run init, not to export a key', async () => {
    const result = await runCli(['vault', 'list'], { cwd: dir })
    expect(result.stderr).toContain('run aegis init')
    expect(result.stderr).not.toContain('AEGIS_MASTER_KEY')
  })
})

describe('usage errors and help', () => {
  let dir: string
  beforeAll(() => {
    dir = tempDir()
  })
  afterAll(() => removeDir(dir))

  it.each([
    [['gate', '--port', 'abc'], 'Parsing --port Expected an integer but received: abc'],
    [['ledger', 'show', '--limit', 'abc'], 'Parsing --limit Expected an integer but received: abc'],
    [['ledger', 'show', '--limit', '0'], 'Expected an integer greater than or equal to 1'],
    [['vault', 'add', '--auth-type', 'digest'], 'Expected --auth-type=digest to be one of'],
    [['agent', 'add', '--name'], 'Flag --name expects a value'],
    [['agent', 'add', '--name', '--json'], 'Flag --name expects a value'],
    [['agent', 'add', '--name', 'a', '--name', 'b'], 'Flag --name can only be specified once'],
    [['ledger', 'export', '-f'], 'Flag --format expects one of these values: csv, json, jsonl'],
  ])('%j is a usage error (exit 2): %s', async (args, message) => {
    const result = await runCli(args, { cwd: dir })
    expect(result.code).toBe(2)
    expect(unwrap(result.stderr)).toContain(message)
    expect(result.stderr).not.toContain('set DEBUG=aegis*')
    expect(listFiles(dir)).toEqual([])
  })

  it.each([
    [['vualt', 'list'], 'Did you mean vault list?'],
    [['vault', 'lst'], 'Did you mean vault list?'],
    [['agnet', 'add'], 'Did you mean agent add?'],
    [['ledger', 'shwo'], 'Did you mean ledger show?'],
    [['gat'], 'Did you mean gate?'],
    [['polcy'], 'Did you mean policy?'],
  ])('a mistyped %j suggests the nearest command (exit 2)', async (args, hint) => {
    const result = await runCli(args, { cwd: dir })
    expect(result.code).toBe(2)
    expect(unwrap(result.stderr)).toContain(`command ${args.join(' ')} not found. ${hint}`)
  })

  it('something nowhere near a command suggests nothing, and points to --help', async () => {
    const result = await runCli(['xyzzy'], { cwd: dir })
    expect(result.code).toBe(2)
    expect(unwrap(result.stderr)).toBe('Error: command xyzzy not found. Run aegis --help for every command.')
  })

  it('the top-level help lists every topic and command', async () => {
    const result = await runCli(['--help'], { cwd: dir })
    expect(result.code).toBe(0)
    const topics = result.stdout.slice(result.stdout.indexOf('TOPICS'), result.stdout.indexOf('COMMANDS'))
    for (const topic of ['agent', 'config', 'ledger', 'mcp', 'policy', 'vault']) {
      expect(topics).toMatch(new RegExp(`^ {2}${topic} `, 'm'))
    }
    const commands = result.stdout.slice(result.stdout.indexOf('COMMANDS'))
    for (const command of ['doctor', 'gate', 'init', 'run'])
      expect(commands).toMatch(new RegExp(`^ {2}${command} `, 'm'))
    expect(result.stdout.split('\n')[0]).toMatch(/agents, policies, gate, run, MCP/)
  })

  it('aegis policy --help says where the policy file format is described', async () => {
    const result = await runCli(['policy', '--help'], { cwd: dir })
    expect(unwrap(result.stdout)).toContain('packages/policy/README.md ("File format")')
  })
})

describe('in a workspace', () => {
  let p: Project
  beforeAll(async () => {
    p = await initProject()
  })
  afterAll(() => removeDir(p.dir))

  it('vault add --secret <literal> works and warns about argv and history, pointing to --secret -', async () => {
    const literal = await p.run([
      'vault',
      'add',
      '--name',
      'lit',
      '--service',
      'lit',
      '--domains',
      'api.lit.example',
      '--secret',
      'sk-literal-0123456789',
    ])
    expect(literal.code).toBe(0)
    expect(literal.stderr).toContain('visible to other processes')
    expect(literal.stderr).toContain('shell history')
    expect(literal.stderr).toContain('--secret -')
    expect(literal.stderr).not.toContain('sk-literal-0123456789')
    const piped = await p.run(
      ['vault', 'add', '--name', 'pip', '--service', 'pip', '--domains', 'api.pip.example', '--secret', '-'],
      {
        input: 'sk-piped-0123456789\n',
      },
    )
    expect(piped.code).toBe(0)
    expect(piped.stderr).toBe('')
  })

  it('a malformed and a wrong master key get different messages, both "Invalid master key"', async () => {
    const cases = [
      [' '.repeat(2) + 'k'.repeat(43), 'looks malformed (it has leading or trailing whitespace)'],
      [`"${'k'.repeat(41)}"`, 'looks malformed (it is wrapped in quotes)'],
      ['short', 'looks malformed (it has 5 characters where aegis init makes 43 base64url characters)'],
      ['k'.repeat(43), 'is well-formed but does not open vault "default"'],
    ] as const
    for (const [key, why] of cases) {
      const result = await p.run(['vault', 'list'], { env: { AEGIS_MASTER_KEY: key } })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^Error: Invalid master key: /)
      expect(result.stderr).toContain(why)
      expect(result.stderr).not.toContain(key.trim().replaceAll('"', ''))
    }
  })

  it('a missing master key in a workspace says to export the key init printed (not to run init)', async () => {
    const result = await p.run(['vault', 'list'], { env: { AEGIS_MASTER_KEY: undefined } })
    expect(result.stderr).toMatch(
      /^Error: AEGIS_MASTER_KEY is not set: export AEGIS_MASTER_KEY=<the key aegis init printed>/,
    )
    expect(result.stderr).not.toContain('aegis init --write-secrets')
  })

  it.each([
    ['foo:bar', 'upstream port: expected a port 1-65535'],
    ['api.x.example:443:localhost:8443', 'address: expected an IP address'],
    ['api.x.example:443', 'expected "host:port:address:port"'],
  ])('a bad --resolve %s echoes the value and the expected form', async (value, why) => {
    for (const command of [
      ['gate', '--port', '0'],
      ['mcp', 'serve'],
    ]) {
      const result = await p.run([...command, '--resolve', value])
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(
        `Error: Invalid --resolve "${value}": ${why}. Expected HOST:PORT:ADDR:APORT, e.g. api.example.com:443:127.0.0.1:8443\n`,
      )
    }
  })

  it.each([
    ['a missing folder', 'nope', 'does not exist'],
    ['a file, not a folder', 'aegis.config.yaml', 'is not a directory'],
  ])(
    'gate and mcp serve refuse to start on %s as the policies dir, naming the path',
    async (_, dir, cause) => {
      const runs = [
        p.run(['gate', '--port', '0', '--policies-dir', dir]),
        p.run(['mcp', 'serve'], { env: { AEGIS_POLICIES_DIR: dir } }),
      ]
      for (const result of await Promise.all(runs)) {
        expect(result.code).toBe(1)
        expect(result.stderr).toBe(
          `Error: Policies directory ${join(p.dir, dir)} ${cause} (--policies-dir / gate.policies_dir): not starting\n`,
        )
      }
    },
  )

  it('a broken policy FILE in an existing folder: the gate starts and says which file and line', async () => {
    const dir = join(p.dir, 'policies')
    mkdirSync(dir)
    writeFileSync(join(dir, 'bot.yaml'), 'agent: bot\nrules: [\n')
    const child: ChildProcess = spawn(process.execPath, [BIN, 'gate', '--port', '0', '--policies-dir', dir], {
      cwd: p.dir,
      env: { PATH: process.env.PATH ?? '', HOME: p.dir, NO_COLOR: '1', ...p.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`gate did not start:\n${out}`)), 15_000)
        const check = () => {
          if (/listening on/.test(out) && /bot\.yaml:\d+/.test(out)) {
            clearTimeout(timer)
            resolve()
          }
        }
        child.stdout?.on('data', check)
        child.stderr?.on('data', check)
      })
      expect(out).toContain(`${join(dir, 'bot.yaml')}:3`)
    } finally {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  })

  it('init --if-missing keeps an existing workspace (exit 0, nothing changed); plain init still refuses', async () => {
    const kept = await p.run(['init', '--if-missing', '--json'])
    expect(kept.code, kept.stderr).toBe(0)
    expect(JSON.parse(kept.stdout)).toMatchObject({ kept: true, vault: 'default' })
    const again = await p.run(['init'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('Config file already exists')
  })
})
