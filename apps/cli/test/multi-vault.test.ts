import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addCredential,
  BIN,
  initProject,
  type Project,
  parseJson,
  removeDir,
  runCli,
  snapshot,
  tempDir,
} from './helpers/run-cli.js'

describe('multi-vault commands', () => {
  let p: Project
  beforeAll(async () => {
    p = await initProject()
  })
  afterAll(() => {
    if (p) removeDir(p.dir)
  })

  it('creates a vault, keeps its credentials apart, lists vaults and destroys with --confirm', async () => {
    const create = await p.run(['vault', 'create', '--name', 'staging'])
    expect(create.code).toBe(0)
    expect(create.stdout).toContain('Created vault staging')
    expect(existsSync(join(p.dataDir, 'vaults', 'staging.db'))).toBe(true)

    await addCredential(
      p,
      ['--name', 'slack', '--service', 'slack', '--domains', 'api.slack.com'],
      'default-secret',
    )
    const staged = await p.run(
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
      ],
      { env: { AEGIS_VAULT: 'staging' }, input: 'staging-secret' },
    )
    expect(staged.code).toBe(0)
    expect(staged.stdout).toContain('to vault staging')

    const vaults = await p.run(['vault', 'vaults', '--json'], { env: { AEGIS_VAULT: 'staging' } })
    expect(vaults.code).toBe(0)
    expect(parseJson(vaults)).toEqual([
      expect.objectContaining({ name: 'default', active: false, credentials: 1 }),
      expect.objectContaining({ name: 'staging', active: true, credentials: 1 }),
    ])
    const human = await p.run(['vault', 'vaults'])
    expect(human.stdout).toMatch(/\*\s+default/)

    const refused = await p.run(['vault', 'destroy', '--name', 'staging'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(
      'Error: Refusing to destroy vault "staging" without --confirm (this deletes its credentials)\n',
    )
    expect(existsSync(join(p.dataDir, 'vaults', 'staging.db'))).toBe(true)

    const destroyed = await p.run(['vault', 'destroy', '--name', 'staging', '--confirm', '--json'])
    expect(destroyed.code).toBe(0)
    expect(parseJson(destroyed)).toEqual({ name: 'staging', destroyed: true })
    expect(existsSync(join(p.dataDir, 'vaults', 'staging.db'))).toBe(false)
    const after = parseJson<{ name: string }[]>(await p.run(['vault', 'vaults', '--json']))
    expect(after.map((v) => v.name)).toEqual(['default'])
    // The default vault is untouched.
    expect(parseJson<unknown[]>(await p.run(['vault', 'list', '--json']))).toHaveLength(1)
  })

  it('refuses duplicates, bad names, unknown vaults and the wrong key without changing anything', async () => {
    const before = snapshot(p.dir)
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['vault', 'create', '--name', 'default'], {}, /^Error: Vault "default" already exists/],
      [['vault', 'create', '--name', 'Bad Name'], {}, /^Error: --name must be a vault name: lower-case/],
      [['vault', 'create', '--name', 'Staging'], {}, /^Error: --name must be a vault name: lower-case/],
      [['vault', 'destroy', '--name', 'Staging', '--confirm'], {}, /^Error: --name must be a vault name/],
      [
        ['vault', 'create', '--name', 'x'],
        { AEGIS_MASTER_KEY: undefined },
        /^Error: AEGIS_MASTER_KEY is not set/,
      ],
      [['vault', 'destroy', '--name', 'ghost', '--confirm'], {}, /^Error: .*ghost/],
      [
        ['vault', 'list'],
        { AEGIS_VAULT: 'ghost' },
        // The vaults there are, and the ways out.
        /^Error: No vault named "ghost" in .* \(vaults here: default(, \w+)*; pick one with AEGIS_VAULT=<name>, or create it: aegis vault create --name ghost\)$/m,
      ],
    ]
    for (const [args, env, error] of cases) {
      const r = await p.run(args, { env })
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr).toMatch(error)
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    }
    expect(snapshot(p.dir)).toEqual(before)
  })

  it('three vault create of one name at once: one creates it, the others say it exists', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => p.run(['vault', 'create', '--name', 'raced'])))
    expect(runs.map((r) => r.code).sort()).toEqual([0, 1, 1])
    for (const r of runs.filter((r) => r.code === 1)) {
      expect(r.stderr).toMatch(/^Error: Vault "raced" already exists/)
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    }
    const vaults = parseJson<{ name: string }[]>(await p.run(['vault', 'vaults', '--json']))
    expect(vaults.filter((v) => v.name === 'raced')).toHaveLength(1)
    expect((await p.run(['vault', 'list'], { env: { AEGIS_VAULT: 'raced' } })).code).toBe(0)
  })

  it('a database file no vault lists (a create killed half way) is named with the way out', async () => {
    const stray = join(p.dir, '.aegis', 'vaults', 'stray.db')
    writeFileSync(stray, '')
    const r = await p.run(['vault', 'create', '--name', 'stray'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `Error: Vault "stray" already exists: ${stray} is present, though vaults.json does not list it (left by an interrupted vault create?); remove it with: aegis vault destroy --name stray --confirm\n`,
    )
    expect((await p.run(['vault', 'destroy', '--name', 'stray', '--confirm'])).code).toBe(0)
    expect((await p.run(['vault', 'create', '--name', 'stray'])).code).toBe(0)
  })
})

/** `aegis gate` in `p` with `env`, until it listens; the caller stops it. */
async function startGate(p: Project, env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'gate', '--port', '0'], {
    cwd: p.dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: p.dir, NO_COLOR: '1', ...p.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (d: string) => {
      out += d
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (match) resolve(Number(match[1]))
    }
    child.stdout.setEncoding('utf8').on('data', onData)
    child.stderr.setEncoding('utf8').on('data', onData)
    child.once('exit', (code) => reject(new Error(`gate exited ${code}: ${out}`)))
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('close', () => resolve())
      child.kill('SIGTERM')
    })
  return { port, output: () => out, stop }
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('AEGIS_VAULT selects the vault for every command and for the gate', () => {
  let p: Project
  beforeAll(async () => {
    p = await initProject()
    expect((await p.run(['vault', 'create', '--name', 'staging'])).code).toBe(0)
    await addCredential(
      p,
      ['--name', 'only-default', '--service', 'alpha', '--domains', 'a.example.com'],
      'default-secret-1',
    )
    await addCredential(
      p,
      ['--name', 'shared', '--service', 'shared', '--domains', 's.example.com'],
      'default-secret-2',
    )
    const staging = { AEGIS_VAULT: 'staging' }
    for (const [name, service, secret] of [
      ['only-staging', 'beta', 'staging-secret-1'],
      ['shared', 'shared', 'staging-secret-2'],
      ['third', 'gamma', 'staging-secret-3'],
    ] as const) {
      const r = await p.run(
        ['vault', 'add', '--name', name, '--service', service, '--domains', 'b.example.com', '--secret', '-'],
        {
          env: staging,
          input: secret,
        },
      )
      expect(r.code, r.stderr).toBe(0)
    }
  })
  afterAll(() => {
    if (p) removeDir(p.dir)
  })

  const names = async (args: string[], vault?: string) =>
    parseJson<{ name: string }[]>(
      await p.run([...args, '--json'], { env: vault ? { AEGIS_VAULT: vault } : {} }),
    )
      .map((x) => x.name)
      .sort()

  it('vault and agent commands read and write only the selected vault', async () => {
    expect(await names(['vault', 'list'])).toEqual(['only-default', 'shared'])
    expect(await names(['vault', 'list'], 'staging')).toEqual(['only-staging', 'shared', 'third'])

    const staging = { env: { AEGIS_VAULT: 'staging' } }
    expect(
      (await p.run(['vault', 'update', '--name', 'shared', '--rate-limit', '7/min'], staging)).code,
    ).toBe(0)
    expect((await p.run(['vault', 'remove', '--name', 'third'], staging)).code).toBe(0)
    expect(
      (
        await p.run(['vault', 'rotate', '--name', 'shared', '--secret', '-'], {
          ...staging,
          input: 'staging-rotated-9',
        })
      ).code,
    ).toBe(0)
    const defaults = parseJson<{ name: string; rateLimit: string | null }[]>(
      await p.run(['vault', 'list', '--json']),
    )
    expect(defaults.find((c) => c.name === 'shared')?.rateLimit).toBeNull()
    expect(await names(['vault', 'list'], 'staging')).toEqual(['only-staging', 'shared'])

    expect((await p.run(['agent', 'add', '--name', 'stager'], staging)).code).toBe(0)
    expect(
      (await p.run(['agent', 'grant', '--agent', 'stager', '--credential', 'only-staging'], staging)).code,
    ).toBe(0)
    expect(await names(['agent', 'list'], 'staging')).toEqual(['stager'])
    expect(await names(['agent', 'list'])).toEqual([])
    const wrongVault = await p.run(['agent', 'grant', '--agent', 'stager', '--credential', 'only-staging'])
    expect(wrongVault.code).toBe(1)
  })

  it('the gate serves the selected vault only', async () => {
    const gate = await startGate(p, { AEGIS_VAULT: 'staging' })
    try {
      expect(gate.output()).toContain('(vault "staging")')
      expect(JSON.parse((await get(gate.port, '/_aegis/health')).body).credentials).toBe(2)
      const other = await get(gate.port, '/alpha/x')
      expect(other.status).toBe(404)
      expect(JSON.parse(other.body).code).toBe('service_not_found')
    } finally {
      await gate.stop()
    }
    const fallback = await startGate(p, {})
    try {
      expect(fallback.output()).toContain('(vault "default")')
      expect(JSON.parse((await get(fallback.port, '/beta/x')).body).code).toBe('service_not_found')
    } finally {
      await fallback.stop()
    }
  })

  it('under RBAC, one user store serves every vault, and vault create|vaults|destroy need vault:manage', async () => {
    const admin = parseJson<{ token: string }>(
      await p.run(['user', 'add', '--name', 'root', '--role', 'admin', '--json']),
    ).token
    const op = parseJson<{ token: string }>(
      await p.run(['user', 'add', '--name', 'op', '--role', 'operator', '--json'], {
        env: { AEGIS_USER_TOKEN: admin },
      }),
    ).token
    expect(existsSync(join(p.dataDir, 'access.db'))).toBe(true)
    expect(existsSync(join(p.dataDir, 'vaults', 'access.db'))).toBe(false)
    const asOp = (vault: string) => ({ env: { AEGIS_USER_TOKEN: op, AEGIS_VAULT: vault } })
    expect((await p.run(['vault', 'list'], asOp('staging'))).code).toBe(0)
    expect((await p.run(['agent', 'list'], asOp('default'))).code).toBe(0)
    const before = snapshot(p.dir)
    for (const args of [
      ['vault', 'vaults'],
      ['vault', 'create', '--name', 'prod'],
      ['vault', 'destroy', '--name', 'staging', '--confirm'],
    ]) {
      const r = await p.run(args, asOp('staging'))
      expect([r.code, r.stderr], args.join(' ')).toEqual([
        1,
        `Error: Permission denied: operator may not vault:manage (an admin can change your role: aegis user role --name <you> --role <role>)\n`,
      ])
    }
    expect(snapshot(p.dir)).toEqual(before)
    const asAdmin = { env: { AEGIS_USER_TOKEN: admin } }
    expect((await p.run(['vault', 'create', '--name', 'prod'], asAdmin)).code).toBe(0)
    const vaults = parseJson<{ name: string }[]>(await p.run(['vault', 'vaults', '--json'], asAdmin))
    expect(vaults.map((v) => v.name).sort()).toEqual(['default', 'prod', 'staging'])
    expect((await p.run(['vault', 'destroy', '--name', 'prod', '--confirm'], asAdmin)).code).toBe(0)
  })
})

describe('AEGIS_SALT / vault.salt', () => {
  const SALT = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'
  const OTHER = 'ffeeddccbbaa99887766554433221100'

  it('is the salt of vaults made by init and vault create, and another salt is refused at every opening', async () => {
    const dir = tempDir()
    try {
      // Any text is a salt: its SHA-256 (hex as vaults.json keeps it is taken as those bytes).
      const text = tempDir()
      const byText = await runCli(['init', '--json'], { cwd: text, env: { AEGIS_SALT: 'not-hex' } })
      expect(byText.code, byText.stderr).toBe(0)
      const textRegistry = JSON.parse(readFileSync(join(text, '.aegis', 'vaults.json'), 'utf8')) as {
        vaults: { salt: string }[]
      }
      expect(textRegistry.vaults[0]?.salt).toBe(createHash('sha256').update('not-hex').digest('hex'))
      const textKey = parseJson<{ masterKey: string }>(byText).masterKey
      const again = await runCli(['vault', 'list'], {
        cwd: text,
        env: { AEGIS_MASTER_KEY: textKey, AEGIS_SALT: 'not-hex' },
      })
      expect(again.code, again.stderr).toBe(0)
      removeDir(text)

      const init = await runCli(['init', '--json'], { cwd: dir, env: { AEGIS_SALT: SALT } })
      expect(init.code, init.stderr).toBe(0)
      const key = parseJson<{ masterKey: string }>(init).masterKey
      const env = { AEGIS_MASTER_KEY: key, AEGIS_SALT: SALT }
      expect((await runCli(['vault', 'create', '--name', 'prod'], { cwd: dir, env })).code).toBe(0)
      // Without the setting a vault gets its own random salt, as before.
      const own = await runCli(['vault', 'create', '--name', 'dev'], {
        cwd: dir,
        env: { AEGIS_MASTER_KEY: key },
      })
      expect(own.code).toBe(0)
      const registry = JSON.parse(readFileSync(join(dir, '.aegis', 'vaults.json'), 'utf8')) as {
        vaults: { name: string; salt: string }[]
      }
      const salts = Object.fromEntries(registry.vaults.map((v) => [v.name, v.salt]))
      expect(salts.default).toBe(SALT)
      expect(salts.prod).toBe(SALT)
      expect(salts.dev).toMatch(/^[0-9a-f]{64}$/)
      expect(salts.dev).not.toBe(SALT)

      expect((await runCli(['vault', 'list'], { cwd: dir, env })).code).toBe(0)
      const before = snapshot(dir)
      const mismatch = { AEGIS_MASTER_KEY: key, AEGIS_SALT: OTHER }
      for (const args of [['vault', 'list'], ['gate', '--port', '0'], ['doctor']]) {
        const r = await runCli(args, { cwd: dir, env: mismatch })
        expect(r.code, args.join(' ')).toBe(1)
        expect(r.stdout + r.stderr, args.join(' ')).toMatch(
          /The configured salt \(AEGIS_SALT \/ vault\.salt\) is not the salt vault "default" was created with/,
        )
        expect(r.stdout).not.toContain('listening on')
      }
      // The dev vault, with its own salt, is refused too under the setting, never opened with it.
      const dev = await runCli(['vault', 'list'], { cwd: dir, env: { ...env, AEGIS_VAULT: 'dev' } })
      expect(dev.stderr).toMatch(/not the salt vault "dev" was created with/)
      expect(snapshot(dir)).toEqual(before)
    } finally {
      removeDir(dir)
    }
  }, 60_000)
})
