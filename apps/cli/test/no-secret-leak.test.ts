import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, type CliResult, listFiles, removeDir, runCli, tempDir } from './helpers/run-cli.js'

/** A secret and every encoding of it that would still give it away. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  return [
    secret,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    encodeURIComponent(secret),
  ]
}

describe('a full CLI session never reveals a credential secret', () => {
  const dir = tempDir()
  afterAll(() => removeDir(dir))
  const secret = (label: string) => `sk-${label}-${randomBytes(24).toString('hex')}`
  const secrets = {
    stdin: secret('stdin'),
    argv: secret('argv'),
    rotated: secret('rotated'),
    staging: secret('staging'),
    refusedDuplicate: secret('dup'),
    refusedDomain: secret('domain'),
    refusedKey: secret('wrongkey'),
    forgottenFlag: secret('forgot'),
  }

  it('keeps every secret out of stdout, stderr and every file written', async () => {
    const outputs: CliResult[] = []
    const run = async (
      args: string[],
      opts: { env?: Record<string, string | undefined>; input?: string } = {},
    ) => {
      const r = await runCli(args, { cwd: dir, env: { ...env, ...opts.env }, input: opts.input })
      outputs.push(r)
      return r
    }
    const env: Record<string, string | undefined> = {}
    const init = await run(['init', '--json'])
    env.AEGIS_MASTER_KEY = JSON.parse(init.stdout).masterKey

    const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0)
    ok(
      await run(
        [
          'vault',
          'add',
          '--name',
          'slack',
          '--service',
          'slack',
          '--domains',
          'api.slack.com',
          '--secret',
          '-',
          '--json',
        ],
        { input: `${secrets.stdin}\n` },
      ),
    )
    ok(
      await run([
        'vault',
        'add',
        '--name',
        'gh',
        '--service',
        'github',
        '--domains',
        'api.github.com',
        '--secret',
        secrets.argv,
        '--auth-type',
        'basic',
      ]),
    )
    ok(await run(['vault', 'list']))
    ok(await run(['vault', 'list', '--json']))
    ok(await run(['vault', 'update', '--name', 'gh', '--scopes', 'read', '--ttl', '10', '--json']))
    ok(await run(['vault', 'rotate', '--name', 'slack', '--secret', '-'], { input: secrets.rotated }))
    ok(await run(['vault', 'create', '--name', 'staging']))
    ok(
      await run(
        ['vault', 'add', '--name', 's', '--service', 's', '--domains', 'api.s.example', '--secret', '-'],
        { env: { AEGIS_VAULT: 'staging' }, input: secrets.staging },
      ),
    )
    ok(await run(['vault', 'vaults', '--json']))
    ok(await run(['config', 'show']))
    ok(await run(['config', 'show', '--json']))
    ok(await run(['config', 'validate']))
    ok(await run(['doctor']))
    ok(await run(['doctor', '--json']))

    // Refusals that carry a secret in their input.
    const refused = [
      await run([
        'vault',
        'add',
        '--name',
        'slack',
        '--service',
        'x',
        '--domains',
        'api.x.example',
        '--secret',
        secrets.refusedDuplicate,
      ]),
      await run(['vault', 'add', '--name', 'y', '--service', 'y', '--domains', '*.com', '--secret', '-'], {
        input: secrets.refusedDomain,
      }),
      await run(
        [
          'vault',
          'add',
          '--name',
          'z',
          '--service',
          'z',
          '--domains',
          'api.z.example',
          '--secret',
          secrets.refusedKey,
        ],
        { env: { AEGIS_MASTER_KEY: 'wrong' } },
      ),
      await run(['vault', 'rotate', '--name', 'slack', '--secret', secrets.refusedKey], {
        env: { AEGIS_MASTER_KEY: 'wrong' },
      }),
      // A forgotten --secret makes the secret a stray argument: the parser error must not echo it.
      await run([
        'vault',
        'add',
        '--name',
        'w',
        '--service',
        'w',
        '--domains',
        'api.w.example',
        secrets.forgottenFlag,
      ]),
      await run(['vault', 'rotate', '--name', 'slack', secrets.forgottenFlag]),
    ]
    for (const r of refused) expect(r.code).not.toBe(0)
    expect(refused[4]?.stderr).toMatch(/Unexpected argument \(1, not shown/)

    ok(await run(['vault', 'remove', '--name', 'gh']))
    ok(await run(['vault', 'destroy', '--name', 'staging', '--confirm']))

    const printed = outputs.map((r) => r.stdout + r.stderr).join('\n')
    const files = listFiles(dir)
    expect(files).toEqual(
      expect.arrayContaining(['aegis.config.yaml', '.aegis/vaults.json', '.aegis/vaults/default.db']),
    )
    for (const [label, value] of Object.entries(secrets)) {
      for (const form of encodings(value)) {
        expect(printed.includes(form), `${label} printed as ${form}`).toBe(false)
        for (const file of files) {
          expect(readFileSync(join(dir, file)).includes(Buffer.from(form)), `${label} in ${file}`).toBe(false)
        }
      }
    }
    // The master key itself is printed once (by init) and never written to a file.
    for (const file of files) {
      expect(readFileSync(join(dir, file)).includes(Buffer.from(String(env.AEGIS_MASTER_KEY))), file).toBe(
        false,
      )
    }
  })
})

/** Every form of a user token that would still give it away: whole, its secret part, encoded. */
function tokenForms(token: string): string[] {
  return [...encodings(token), token.slice(20, 63), Buffer.from(token.slice(20, 63)).toString('base64')]
}

/** Runs `aegis gate` until it listens, then SIGTERM; resolves with everything it printed. */
function gateSession(cwd: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'gate', '--port', '0'], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const onData = (d: string) => {
      out += d
      if (/listening on/.test(out)) child.kill('SIGTERM')
    }
    child.stdout.setEncoding('utf8').on('data', onData)
    child.stderr.setEncoding('utf8').on('data', onData)
    child.on('error', reject)
    child.on('close', () => {
      clearTimeout(timer)
      resolve(out)
    })
  })
}

describe('a CLI session with RBAC never reveals a user token beyond its one-time print', () => {
  const dir = tempDir()
  afterAll(() => removeDir(dir))

  it('keeps every user token out of files, logs, the ledger and every other output', async () => {
    const outputs: string[] = []
    const env: Record<string, string | undefined> = {}
    const run = async (args: string[], opts: { env?: Record<string, string>; input?: string } = {}) => {
      const r = await runCli(args, { cwd: dir, env: { ...env, ...opts.env }, input: opts.input })
      outputs.push(r.stdout + r.stderr)
      return r
    }
    /** A command whose stdout prints a token once: kept apart, and checked to print it once. */
    const issue = async (args: string[], opts: { env?: Record<string, string> } = {}) => {
      const r = await runCli(args, { cwd: dir, env: { ...env, ...opts.env } })
      expect(r.code, r.stderr).toBe(0)
      const token = /aegis_user_[0-9A-Za-z_]+/.exec(r.stdout)?.[0] as string
      expect(r.stdout.split(token).length - 1).toBe(1)
      outputs.push(r.stderr)
      return token
    }
    const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0)

    env.AEGIS_MASTER_KEY = JSON.parse((await run(['init', '--json'])).stdout).masterKey
    const admin = await issue(['user', 'add', '--name', 'root', '--role', 'admin', '--json'])
    env.AEGIS_USER_TOKEN = admin
    const firstOp = await issue(['user', 'add', '--name', 'op', '--role', 'operator'])
    const op = await issue(['user', 'regenerate-token', '--name', 'op', '--json'])
    const viewer = await issue(['user', 'add', '--name', 'view', '--role', 'viewer'])
    const tokens = { admin, firstOp, op, viewer }

    ok(
      await run(
        [
          'vault',
          'add',
          '--name',
          'openai',
          '--service',
          'openai',
          '--domains',
          'api.openai.com',
          '--secret',
          '-',
        ],
        {
          input: `sk-leak-test-${randomBytes(12).toString('hex')}\n`,
        },
      ),
    )
    const agent = JSON.parse((await run(['agent', 'add', '--name', 'bot', '--json'])).stdout).token as string
    ok(await run(['user', 'list']))
    ok(await run(['user', 'list', '--json']))
    ok(await run(['user', 'role', '--name', 'view', '--role', 'viewer', '--json']))
    ok(await run(['vault', 'list', '--json'], { env: { AEGIS_USER_TOKEN: op } }))
    ok(await run(['config', 'show', '--json']))
    ok(await run(['doctor', '--json']))
    ok(await run(['mcp', 'config', 'vscode']))
    // Refusals: a revoked token, a role that may not, a token with a typo (its last character
    // changed: to 'x', unless it already was one).
    const typo = `${op.slice(0, -1)}${op.endsWith('x') ? 'y' : 'x'}`
    for (const [token, args] of [
      [firstOp, ['vault', 'list']],
      [viewer, ['agent', 'list']],
      [typo, ['vault', 'list']],
    ] as const) {
      expect((await run([...args], { env: { AEGIS_USER_TOKEN: token } })).code).toBe(1)
    }
    // Long-running commands, logging at debug: the gate, the MCP server, an agent run.
    outputs.push(
      await gateSession(dir, {
        AEGIS_MASTER_KEY: String(env.AEGIS_MASTER_KEY),
        AEGIS_USER_TOKEN: op,
        AEGIS_LOG_LEVEL: 'debug',
        AEGIS_LOG_REQUESTS: 'all',
      }),
    )
    ok(
      await run(['mcp', 'serve'], {
        env: { AEGIS_USER_TOKEN: op, AEGIS_LOG_LEVEL: 'debug', AEGIS_LOG_REQUESTS: 'all' },
      }),
    )
    const child = await run(
      ['run', '--agent-token', '-', '--', process.execPath, '-e', 'console.log(JSON.stringify(process.env))'],
      {
        env: { AEGIS_USER_TOKEN: op },
        input: `${agent}\n`,
      },
    )
    ok(child)
    expect(child.stdout).not.toContain('AEGIS_USER_TOKEN')
    ok(await run(['ledger', 'export', '--format', 'jsonl']))
    ok(await run(['ledger', 'show', '--json']))

    const printed = outputs.join('\n')
    // The long-running commands really ran (as the operator) before stopping.
    expect(printed).toContain('listening on')
    expect(printed).toContain('Aegis MCP server on stdio')
    const files = listFiles(dir)
    expect(files).toEqual(expect.arrayContaining(['.aegis/access.db', '.aegis/ledger.db']))
    for (const [label, token] of Object.entries(tokens)) {
      for (const form of tokenForms(token)) {
        expect(printed.includes(form), `${label} token printed as ${form}`).toBe(false)
        for (const file of files) {
          expect(readFileSync(join(dir, file)).includes(Buffer.from(form)), `${label} token in ${file}`).toBe(
            false,
          )
        }
      }
    }
  }, 120_000)
})
