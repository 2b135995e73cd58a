import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateProcess } from './helpers/gate-process.js'
import {
  initProject,
  type Project,
  parseJson,
  removeDir,
  runCli,
  snapshot,
  tempDir,
} from './helpers/run-cli.js'

describe('config validate / show', () => {
  let p: Project
  beforeAll(async () => {
    p = await initProject()
  })
  afterAll(() => {
    if (p) removeDir(p.dir)
  })

  it('validate prints OK and the file; --json gives {valid, file, warnings}', async () => {
    const r = await p.run(['config', 'validate'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`OK: ${join(p.dir, 'aegis.config.yaml')} is valid\n`)
    const json = parseJson(await p.run(['config', 'validate', '--json']))
    expect(json).toEqual({ valid: true, file: join(p.dir, 'aegis.config.yaml'), warnings: [], problems: [] })
  })

  it('validate --json prints the problems of an invalid config on stdout too (one document), exit 1', async () => {
    writeFileSync(join(p.dir, 'two.yaml'), 'gate:\n  port: abc\nobservability:\n  log_level: loud\n')
    const r = await p.run(['config', 'validate', '--config', 'two.yaml', '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toEqual({
      valid: false,
      file: join(p.dir, 'two.yaml'),
      warnings: [],
      problems: [
        'two.yaml:2: gate.port: expected number, received string',
        expect.stringMatching(/^two\.yaml:4: observability\.log_level: /),
      ],
    })
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'Error: two.yaml:2: gate.port: expected number, received string',
      expect.stringMatching(/^ {2}two\.yaml:4: observability\.log_level: /),
      '  (2 problems)',
    ])
    const env = await p.run(['config', 'validate', '--json'], { env: { AEGIS_GATE_PORT: 'eighty' } })
    expect([env.code, JSON.parse(env.stdout).problems]).toEqual([
      1,
      ['AEGIS_GATE_PORT: expected an integer 0-65535, got "eighty"'],
    ])
  })

  it('validate warns about files the config names that are not there (the gate would refuse to start), exit 0', async () => {
    const dir = tempDir()
    try {
      writeFileSync(
        join(dir, 'aegis.config.yaml'),
        'gate:\n  policies_dir: ./policies\n  tls:\n    cert: ./certs/aegis.crt\n    key: ./certs/aegis.key\n  upstream:\n    ca_file: ./ca.pem\n',
      )
      const r = await runCli(['config', 'validate'], { cwd: dir })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr.trim().split('\n')).toEqual([
        `Warning: gate.policies_dir: ${join(dir, 'policies')} does not exist (aegis gate refuses to start without it)`,
        `Warning: gate.tls.cert: ${join(dir, 'certs', 'aegis.crt')} does not exist (aegis gate refuses to start without it)`,
        `Warning: gate.tls.key: ${join(dir, 'certs', 'aegis.key')} does not exist (aegis gate refuses to start without it)`,
        `Warning: gate.upstream.ca_file: ${join(dir, 'ca.pem')} does not exist (aegis gate refuses to start without it)`,
      ])
      const json = parseJson<{ warnings: string[] }>(
        await runCli(['config', 'validate', '--json'], { cwd: dir }),
      )
      expect(json.warnings).toHaveLength(4)
    } finally {
      removeDir(dir)
    }
  })

  it('a secret in a config file other users can read fails validate and doctor alike, with the chmod', async () => {
    const dir = tempDir()
    try {
      const file = join(dir, 'aegis.config.yaml')
      writeFileSync(
        file,
        'webhooks:\n  - url: https://hooks.example.com/aegis\n    events: [blocked_request]\n    secret: whsec-config-exposure-5150\n',
      )
      chmodSync(file, 0o644)
      const line =
        'aegis.config.yaml holds webhooks[].secret but is readable by group/others (mode 0644); run: chmod 600 aegis.config.yaml'
      const validate = await runCli(['config', 'validate'], { cwd: dir })
      expect([validate.code, validate.stderr, validate.stdout]).toEqual([1, `Error: ${line}\n`, ''])
      const validateJson = await runCli(['config', 'validate', '--json'], { cwd: dir })
      expect([validateJson.code, JSON.parse(validateJson.stdout)]).toEqual([
        1,
        { valid: false, file, warnings: [], problems: [line] },
      ])
      const doctor = await runCli(['doctor', '--json'], { cwd: dir })
      expect(doctor.code).toBe(1)
      const checks = parseJson<{ checks: { name: string; status: string; message: string }[] }>(doctor).checks
      expect(checks.find((c) => c.name === 'config permissions')).toEqual({
        name: 'config permissions',
        status: 'fail',
        message: line,
      })
      expect(validate.stderr + doctor.stdout).not.toContain('whsec-config-exposure-5150')
      chmodSync(file, 0o600)
      expect((await runCli(['config', 'validate'], { cwd: dir })).code).toBe(0)
    } finally {
      removeDir(dir)
    }
  })

  it('aegis gate started with such a config says so in its log (and never prints the secret)', async () => {
    const project = await initProject()
    const file = join(project.dir, 'aegis.config.yaml')
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        /^webhooks: \[\]$/m,
        'webhooks:\n  - url: https://hooks.example.com/aegis\n    events: [blocked_request]\n    secret: whsec-gate-exposure-6161',
      ),
    )
    chmodSync(file, 0o644)
    const gate = await startGateProcess(project.dir, [], project.env)
    try {
      expect(gate.output()).toContain(
        'the config file exposes a secret to other users: aegis.config.yaml holds webhooks[].secret but is readable by group/others (mode 0644); run: chmod 600 aegis.config.yaml',
      )
      expect(gate.output()).not.toContain('whsec-gate-exposure-6161')
    } finally {
      gate.child.kill('SIGTERM')
      await new Promise((resolve) => gate.child.once('exit', resolve))
      removeDir(project.dir)
    }
  })

  it('validate without any config file accepts the defaults', async () => {
    const dir = tempDir()
    try {
      const r = await runCli(['config', 'validate', '--json'], { cwd: dir })
      expect(r.code).toBe(0)
      expect(parseJson(r)).toMatchObject({ valid: true, file: null })
    } finally {
      removeDir(dir)
    }
  })

  const broken: [string, string, RegExp][] = [
    ['wrong type', 'gate:\n  port: "not a number"\n', /gate\.port/],
    ['unknown key', 'gate:\n  port: 3100\n  prot: 3101\n', /gate\.prot.*unknown key|unknown key.*gate\.prot/],
    ['unknown top-level key', 'vault:\n  name: default\nvalut:\n  name: x\n', /valut/],
    ['invalid YAML', 'gate: [1, 2\n', /bad\.yaml/],
  ]
  for (const [what, yaml, keyPattern] of broken) {
    it(`a config with a ${what} fails at validate and at every other command, naming file and key`, async () => {
      writeFileSync(join(p.dir, 'bad.yaml'), yaml)
      const before = snapshot(p.dir)
      for (const args of [
        ['config', 'validate', '--config', 'bad.yaml'],
        ['config', 'show', '--config', 'bad.yaml'],
        ['vault', 'list', '--config', 'bad.yaml'],
        [
          'vault',
          'add',
          '--config',
          'bad.yaml',
          '--name',
          'x',
          '--service',
          'x',
          '--domains',
          'a.example',
          '--secret',
          'y',
        ],
      ]) {
        const r = await p.run(args)
        expect(r.code, args.join(' ')).toBe(1)
        expect(r.stdout).toBe('')
        expect(r.stderr).toMatch(/^Error: /)
        expect(r.stderr).toMatch(/bad\.yaml/)
        expect(r.stderr).toMatch(keyPattern)
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
      }
      // AEGIS_CONFIG works like --config.
      const viaEnv = await p.run(['config', 'validate'], { env: { AEGIS_CONFIG: 'bad.yaml' } })
      expect(viaEnv.code).toBe(1)
      expect(snapshot(p.dir)).toEqual(before)
    })
  }

  it('validate lists every problem of the file; other commands say how many more there are', async () => {
    writeFileSync(
      join(p.dir, 'many.yaml'),
      'gate:\n  prot: 3100\n  policy_mode: enforcing\nwebhooks:\n  - url: https://hooks.example.com/a\n    events: [blocked_request]\n    secrett: a-signing-secret-of-length\n',
    )
    const before = snapshot(p.dir)
    const r = await p.run(['config', 'validate', '--config', 'many.yaml'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'Error: many.yaml:2: unknown key "gate.prot"',
      expect.stringMatching(/^ {2}many\.yaml:3: gate\.policy_mode: /),
      '  many.yaml:7: unknown key "webhooks[0].secrett"',
      '  many.yaml:5: webhooks[0].secret: required key is missing (is "secrett" on line 7 a misspelling of it?)',
      '  (4 problems)',
    ])
    expect(r.stderr).not.toContain('a-signing-secret-of-length')
    const other = await p.run(['vault', 'list', '--config', 'many.yaml'])
    expect(other.code).toBe(1)
    expect(other.stderr.trimEnd()).toBe(
      'Error: many.yaml:2: unknown key "gate.prot" (and 3 more problems: aegis config validate lists them)',
    )
    expect(snapshot(p.dir)).toEqual(before)
  })

  it('an invalid AEGIS_* variable is an error naming the variable', async () => {
    const r = await p.run(['config', 'validate'], { env: { AEGIS_GATE_PORT: 'eighty' } })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: .*AEGIS_GATE_PORT/)
  })

  it('a missing --config file is an error', async () => {
    const r = await p.run(['vault', 'list', '--config', 'nope.yaml'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: .*nope\.yaml/)
  })

  it('show prints the resolved config with env overrides applied and the master key masked', async () => {
    const dir = tempDir()
    try {
      const init = await runCli(['init', '--write-secrets'], { cwd: dir })
      expect(init.code).toBe(0)
      const { parse } = await import('yaml')
      const { readFileSync } = await import('node:fs')
      const key = parse(readFileSync(join(dir, 'aegis.config.yaml'), 'utf8')).vault.master_key as string
      writeFileSync(
        join(dir, 'aegis.config.yaml'),
        `${readFileSync(join(dir, 'aegis.config.yaml'), 'utf8')}\n`.replace(
          'webhooks: []',
          'webhooks:\n  - url: https://hooks.example.com/aegis\n    events: [blocked_request]\n    secret: hmac-signing-secret-value\n',
        ),
        { mode: 0o600 },
      )
      const env = { AEGIS_GATE_PORT: '4100', AEGIS_MASTER_KEY: 'env-master-key-value-123456' }
      const show = await runCli(['config', 'show'], { cwd: dir, env })
      expect(show.code).toBe(0)
      expect(show.stdout).toMatch(/port: 4100/)
      const json = await runCli(['config', 'show', '--json'], { cwd: dir, env })
      expect(json.code).toBe(0)
      const config = parseJson<{ gate: { port: number }; vault: { master_key: string; data_dir: string } }>(
        json,
      )
      expect(config.gate.port).toBe(4100)
      expect(config.vault.data_dir).toBe(join(dir, '.aegis'))
      expect(config.vault.master_key).toMatch(/^\*+$/)
      for (const out of [show, json]) {
        const all = out.stdout + out.stderr
        expect(all).not.toContain(key)
        expect(all).not.toContain('env-master-key-value-123456')
        expect(all).not.toContain('hmac-signing-secret-value')
      }
    } finally {
      removeDir(dir)
    }
  })
})
