import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addCredential,
  initProject,
  type Project,
  parseJson,
  removeDir,
  snapshot,
} from './helpers/run-cli.js'

const SECRET = 'xoxb-test-0123456789-abcdefghij'

/** Asserts the shape `vault list --json` promises (interface.md §6). */
function expectCredentialShape(item: Record<string, unknown>): void {
  expect(item).toEqual(
    expect.objectContaining({
      name: expect.any(String),
      service: expect.any(String),
      domains: expect.any(Array),
      authType: expect.stringMatching(/^(bearer|header|basic|query)$/),
      scopes: expect.any(Array),
      bodyInspection: expect.stringMatching(/^(off|warn|block)$/),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    }),
  )
  expect(item).toHaveProperty('expiresAt')
  expect(item).toHaveProperty('rateLimit')
  expect(JSON.stringify(item)).not.toMatch(/secret/i)
}

describe('vault credential commands', () => {
  let p: Project
  beforeAll(async () => {
    p = await initProject()
  })
  afterAll(() => {
    if (p) removeDir(p.dir)
  })

  it('adds with --secret - (stdin), confirms without the secret, and lists it', async () => {
    const add = await p.run(
      [
        'vault',
        'add',
        '--name',
        'slack-bot',
        '--service',
        'slack',
        '--domains',
        'api.slack.com, *.slack.com',
      ],
      { input: `${SECRET}\n` },
    )
    // No --secret and stdin is not a terminal → the one-line hint, nothing added.
    expect(add.code).toBe(1)
    expect(add.stderr).toBe('Error: --secret is required (use --secret - to read it from stdin)\n')

    const ok = await p.run(
      [
        'vault',
        'add',
        '--name',
        'slack-bot',
        '--service',
        'slack',
        '--domains',
        'api.slack.com, *.slack.com',
        '--secret',
        '-',
      ],
      { input: `${SECRET}\n` },
    )
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('Added credential slack-bot')
    expect(ok.stdout + ok.stderr).not.toContain(SECRET)

    const list = await p.run(['vault', 'list'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(
      /NAME\s+SERVICE\s+DOMAINS\s+AUTH\s+SCOPES\s+EXPIRES\s+RATE LIMIT\s+INSPECTION/,
    )
    expect(list.stdout).toMatch(
      /slack-bot\s+slack\s+api\.slack\.com,\*\.slack\.com\s+bearer\s+\*\s+never\s+-\s+block/,
    )
  })

  it('stores exactly the stdin secret minus one trailing newline (checked through rotate/duplicate-free add)', async () => {
    // Two trailing newlines: only one is removed, and the vault refuses the padded rest.
    const twoNewlines = await p.run(
      ['vault', 'add', '--name', 'nl', '--service', 'nl', '--domains', 'api.nl.example', '--secret', '-'],
      { input: 'abcdefgh\n\n' },
    )
    expect(twoNewlines.code).toBe(1)
    expect(twoNewlines.stderr).toMatch(
      /^Error: --secret has a trailing newline \(LF\): remove surrounding whitespace/,
    )
    const empty = await p.run(
      ['vault', 'add', '--name', 'nl', '--service', 'nl', '--domains', 'api.nl.example', '--secret', '-'],
      { input: '\n' },
    )
    expect(empty.code).toBe(1)
    expect(empty.stderr).toBe('Error: --secret must not be empty\n')
  })

  it('adds with every option and prints the contract JSON', async () => {
    await addCredential(
      p,
      [
        '--name',
        'github-bot',
        '--service',
        'github',
        '--domains',
        'api.github.com',
        '--auth-type',
        'header',
        '--header-name',
        'X-Api-Key',
        '--scopes',
        'read,write',
        '--ttl',
        '90',
        '--rate-limit',
        '100/min',
        '--body-inspection',
        'warn',
      ],
      'ghp_0123456789',
    )
    const list = await p.run(['vault', 'list', '--json'])
    expect(list.code).toBe(0)
    const items = parseJson<Record<string, unknown>[]>(list)
    expect(Array.isArray(items)).toBe(true)
    for (const item of items) expectCredentialShape(item)
    const gh = items.find((i) => i.name === 'github-bot')
    expect(gh).toMatchObject({
      service: 'github',
      domains: ['api.github.com'],
      authType: 'header',
      headerName: 'X-Api-Key',
      scopes: ['read', 'write'],
      rateLimit: '100/min',
      bodyInspection: 'warn',
    })
    const days = (Date.parse(String(gh?.expiresAt)) - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(89)
    expect(days).toBeLessThan(91)

    const query = await p.run(
      [
        'vault',
        'add',
        '--name',
        'q',
        '--service',
        'q',
        '--domains',
        'api.q.example',
        '--auth-type',
        'query',
        '--query-param',
        'api_key',
        '--secret',
        '-',
        '--json',
      ],
      { input: 'q-secret-value' },
    )
    expect(query.code).toBe(0)
    expect(parseJson(query)).toMatchObject({ name: 'q', authType: 'query', queryParam: 'api_key' })
    expect(query.stdout).not.toContain('q-secret-value')
  })

  it('updates settings, clears with "none", and refuses an empty update', async () => {
    const up = await p.run([
      'vault',
      'update',
      '--name',
      'github-bot',
      '--rate-limit',
      '200/min',
      '--body-inspection',
      'block',
      '--domains',
      'api.github.com,uploads.github.com',
      '--json',
    ])
    expect(up.code).toBe(0)
    expect(parseJson(up)).toMatchObject({
      rateLimit: '200/min',
      bodyInspection: 'block',
      domains: ['api.github.com', 'uploads.github.com'],
    })
    const clear = await p.run([
      'vault',
      'update',
      '--name',
      'github-bot',
      '--rate-limit',
      'none',
      '--ttl',
      'none',
      '--json',
    ])
    expect(clear.code).toBe(0)
    expect(parseJson(clear)).toMatchObject({ rateLimit: null, expiresAt: null })
    // Switching away from header auth drops the header name.
    const auth = await p.run(['vault', 'update', '--name', 'github-bot', '--auth-type', 'bearer', '--json'])
    expect(auth.code).toBe(0)
    expect(parseJson(auth)).toMatchObject({ authType: 'bearer' })
    expect(parseJson(auth)).not.toHaveProperty('headerName')
    const nothing = await p.run(['vault', 'update', '--name', 'github-bot'])
    expect(nothing.code).toBe(1)
    expect(nothing.stderr).toBe('Error: Nothing to update: give at least one setting flag\n')
  })

  it('rotates a secret from stdin and refuses an unknown name before reading a secret', async () => {
    const rotate = await p.run(['vault', 'rotate', '--name', 'slack-bot', '--secret', '-', '--json'], {
      input: 'xoxb-rotated-secret\n',
    })
    expect(rotate.code).toBe(0)
    const info = parseJson<Record<string, unknown>>(rotate)
    expect(info.name).toBe('slack-bot')
    expect(info.rotatedAt).toEqual(expect.stringMatching(/^\d{4}-/))
    expect(rotate.stdout).not.toContain('xoxb-rotated-secret')
    const unknown = await p.run(['vault', 'rotate', '--name', 'nope'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe('Error: No credential named "nope"\n')
  })

  it('removes a credential, then reports it unknown', async () => {
    await addCredential(
      p,
      ['--name', 'temp', '--service', 'temp', '--domains', 'api.temp.example'],
      'temp-secret',
    )
    const rm = await p.run(['vault', 'remove', '--name', 'temp'])
    expect(rm.code).toBe(0)
    expect(rm.stdout).toContain('Removed credential temp')
    const again = await p.run(['vault', 'remove', '--name', 'temp'])
    expect(again.code).toBe(1)
    expect(again.stderr).toBe('Error: No credential named "temp"\n')
    const names = parseJson<{ name: string }[]>(await p.run(['vault', 'list', '--json'])).map((c) => c.name)
    expect(names).not.toContain('temp')
  })

  describe('bad input: one-line error, right exit status, nothing changed on disk', () => {
    const base = ['vault', 'add', '--name', 'bad', '--service', 'bad', '--secret', 'bad-secret-value']
    const cases: {
      what: string
      args: string[]
      env?: Record<string, string | undefined>
      code: number
      error: RegExp
    }[] = [
      {
        what: 'wrong master key',
        args: [...base, '--domains', 'api.bad.example'],
        env: { AEGIS_MASTER_KEY: 'wrong-key' },
        code: 1,
        error: /^Error: Invalid master key: /m,
      },
      {
        what: 'missing master key',
        args: [...base, '--domains', 'api.bad.example'],
        env: { AEGIS_MASTER_KEY: undefined },
        code: 1,
        error: /^Error: AEGIS_MASTER_KEY is not set/,
      },
      {
        what: 'duplicate name',
        args: [
          'vault',
          'add',
          '--name',
          'slack-bot',
          '--service',
          'other',
          '--secret',
          'x-secret-value',
          '--domains',
          'api.x.example',
        ],
        code: 1,
        error: /^Error: A credential named "slack-bot" already exists$/,
      },
      {
        what: 'duplicate service',
        args: [
          'vault',
          'add',
          '--name',
          'other',
          '--service',
          'slack',
          '--secret',
          'x-secret-value',
          '--domains',
          'api.x.example',
        ],
        code: 1,
        error: /^Error: Service "slack" is already used by credential "slack-bot"$/,
      },
      {
        what: 'invalid domain',
        args: [...base, '--domains', 'https://api.bad.example/path'],
        code: 1,
        error: /^Error: --domains: .*"https:\/\/api\.bad\.example\/path".*not a URL/,
      },
      {
        what: 'bare wildcard',
        args: [...base, '--domains', '*'],
        code: 1,
        error: /^Error: --domains: Invalid domain "\*": .*wildcard/,
      },
      {
        what: 'public-suffix wildcard',
        args: [...base, '--domains', '*.com'],
        code: 1,
        error: /^Error: --domains: Invalid domain "\*\.com": .*public suffix/,
      },
      {
        what: 'public-suffix wildcard (co.uk)',
        args: [...base, '--domains', '*.co.uk'],
        code: 1,
        error: /public suffix/,
      },
      {
        what: 'no domains',
        args: [...base, '--domains', ' , '],
        code: 1,
        error: /^Error: --domains must list at least one domain$/,
      },
      {
        what: 'unknown auth type',
        args: [...base, '--domains', 'api.bad.example', '--auth-type', 'digest'],
        code: 2,
        error: /Expected --auth-type=digest to be one of: bearer, header, basic, query/,
      },
      {
        what: 'header auth without header name',
        args: [...base, '--domains', 'api.bad.example', '--auth-type', 'header'],
        code: 1,
        error: /^Error: --header-name is required with --auth-type "header"$/,
      },
      {
        what: 'bad rate string',
        args: [...base, '--domains', 'api.bad.example', '--rate-limit', '100/fortnight'],
        code: 1,
        error: /^Error: --rate-limit: .*100\/fortnight/,
      },
      {
        what: 'rate without number',
        args: [...base, '--domains', 'api.bad.example', '--rate-limit', 'fast'],
        code: 1,
        error: /^Error: --rate-limit/,
      },
      {
        what: 'negative ttl',
        args: [...base, '--domains', 'api.bad.example', '--ttl', '-3'],
        code: 1,
        error: /^Error: --ttl must be a whole number of days, 1 or more, or none \(got "-3"\)$/,
      },
      {
        what: 'non-numeric ttl',
        args: [...base, '--domains', 'api.bad.example', '--ttl', 'abc'],
        code: 1,
        error: /^Error: --ttl must be a whole number of days/,
      },
      {
        // Whole days are the rule: "a positive number of days" was true of 1.5 too.
        what: 'fractional ttl',
        args: [...base, '--domains', 'api.bad.example', '--ttl', '1.5'],
        code: 1,
        error: /^Error: --ttl must be a whole number of days, 1 or more, or none \(got "1\.5"\)$/,
      },
      {
        what: 'ttl past the vault limit',
        args: [...base, '--domains', 'api.bad.example', '--ttl', '36501'],
        code: 1,
        error: /^Error: --ttl must be a positive number of days \(at most 36500\)$/,
      },
      {
        what: 'zero ttl',
        args: [...base, '--domains', 'api.bad.example', '--ttl', '0'],
        code: 1,
        error: /^Error: --ttl must be a whole number of days, 1 or more/,
      },
      {
        what: 'unknown scope',
        args: [...base, '--domains', 'api.bad.example', '--scopes', 'read,admin'],
        code: 1,
        error: /^Error: --scopes: "admin" is not one of read, write, \*$/,
      },
      {
        what: 'unknown body inspection',
        args: [...base, '--domains', 'api.bad.example', '--body-inspection', 'maybe'],
        code: 2,
        error: /Expected --body-inspection=maybe to be one of: off, warn, block/,
      },
      {
        what: 'reserved service name',
        args: [
          'vault',
          'add',
          '--name',
          'r',
          '--service',
          '_aegis',
          '--secret',
          'x-secret-value',
          '--domains',
          'api.x.example',
        ],
        code: 1,
        error: /^Error: --service/,
      },
      {
        what: 'missing required flag',
        args: ['vault', 'add', '--name', 'bad', '--secret', 'x'],
        code: 2,
        error: /Missing required flag/,
      },
      {
        what: 'unknown flag',
        args: [...base, '--domains', 'api.bad.example', '--color', 'red'],
        code: 2,
        error: /Nonexistent flag: --color/,
      },
      {
        what: 'update unknown credential',
        args: ['vault', 'update', '--name', 'ghost', '--ttl', '3'],
        code: 1,
        error: /^Error: No credential named "ghost"$/,
      },
      {
        what: 'update bad rate',
        args: ['vault', 'update', '--name', 'slack-bot', '--rate-limit', '5/year'],
        code: 1,
        error: /^Error: --rate-limit/,
      },
      {
        what: 'update bad ttl',
        args: ['vault', 'update', '--name', 'slack-bot', '--ttl', '-1'],
        code: 1,
        error: /^Error: --ttl must be a whole number of days/,
      },
      {
        what: 'update fractional ttl',
        args: ['vault', 'update', '--name', 'slack-bot', '--ttl', '2.5'],
        code: 1,
        error: /^Error: --ttl must be a whole number of days, 1 or more, or none \(got "2\.5"\)$/,
      },
      {
        what: 'update public-suffix wildcard',
        args: ['vault', 'update', '--name', 'slack-bot', '--domains', '*.com'],
        code: 1,
        error: /public suffix/,
      },
      {
        what: 'rotate with wrong key',
        args: ['vault', 'rotate', '--name', 'slack-bot', '--secret', 'new'],
        env: { AEGIS_MASTER_KEY: 'nope' },
        code: 1,
        error: /^Error: Invalid master key: /m,
      },
      {
        what: 'remove with wrong key',
        args: ['vault', 'remove', '--name', 'slack-bot'],
        env: { AEGIS_MASTER_KEY: 'nope' },
        code: 1,
        error: /^Error: Invalid master key: /m,
      },
      {
        what: 'list with wrong key',
        args: ['vault', 'list'],
        env: { AEGIS_MASTER_KEY: 'nope' },
        code: 1,
        error: /^Error: Invalid master key: /m,
      },
    ]
    for (const c of cases) {
      it(c.what, async () => {
        const before = snapshot(p.dir)
        const result = await p.run(c.args, { env: c.env })
        expect(result.code).toBe(c.code)
        expect(result.stdout).toBe('')
        // oclif wraps parser errors at 80 columns behind " ›   "; unwrap before matching.
        const stderr =
          c.code === 2 ? result.stderr.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ') : result.stderr
        expect(stderr.trim()).toMatch(c.error)
        if (c.code === 1) expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
        expect(result.stderr).not.toContain('bad-secret-value')
        expect(result.stderr).not.toMatch(/\n\s+at /)
        expect(snapshot(p.dir)).toEqual(before)
      })
    }
  })

  it('a corrupt database file or vaults.json is a one-line error and stays as it was', async () => {
    const q = await initProject()
    try {
      await addCredential(q, ['--name', 'a', '--service', 'a', '--domains', 'api.a.example'], 'secret-a')
      const db = join(q.dataDir, 'vaults', 'default.db')
      writeFileSync(db, Buffer.from('this is not a sqlite database at all, just some bytes'.repeat(100)))
      let before = snapshot(q.dir)
      for (const args of [
        ['vault', 'list'],
        ['vault', 'add', '--name', 'b', '--service', 'b', '--domains', 'api.b.example', '--secret', 'x'],
      ]) {
        const r = await q.run(args)
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
          `Error: Database file is corrupted: ${db} (restore it from a backup, or move the data directory aside and run aegis init for a new, empty one)\n`,
        )
      }
      expect(snapshot(q.dir)).toEqual(before)
      // The way out the message names works: the data directory moved aside, init makes a new one
      // for the kept config (with the same key), and the vault opens again.
      renameSync(q.dataDir, `${q.dataDir}.corrupt`)
      const again = await q.run(['init'])
      expect(again.code).toBe(0)
      const fresh = await q.run(['vault', 'list', '--json'])
      expect([fresh.code, JSON.parse(fresh.stdout)]).toEqual([0, []])

      writeFileSync(join(q.dataDir, 'vaults.json'), '{"version":1,"vaults":[{"name":')
      before = snapshot(q.dir)
      const list = await q.run(['vault', 'list'])
      expect(list.code).toBe(1)
      expect(list.stderr).toMatch(/^Error: .*vaults\.json is corrupt: not valid JSON\n$/)
      const create = await q.run(['vault', 'create', '--name', 'more'])
      expect(create.code).toBe(1)
      expect(snapshot(q.dir)).toEqual(before)
    } finally {
      removeDir(q.dir)
    }
  })

  it('a missing database file is a one-line error naming the same ways out', async () => {
    const q = await initProject()
    try {
      const db = join(q.dataDir, 'vaults', 'default.db')
      rmSync(db)
      const r = await q.run(['vault', 'list'])
      expect([r.code, r.stdout, r.stderr]).toEqual([
        1,
        '',
        `Error: Database file is missing: ${db} (restore it from a backup, or move the data directory aside and run aegis init for a new, empty one)\n`,
      ])
    } finally {
      removeDir(q.dir)
    }
  })

  it('an unreadable database file is a one-line error', async () => {
    // A directory in the database file's place: unreadable as a file even for root.
    const q = await initProject()
    try {
      const db = join(q.dataDir, 'vaults', 'default.db')
      removeDir(db)
      mkdirSync(db)
      const before = snapshot(q.dir)
      const r = await q.run(['vault', 'list'])
      expect(r.code).toBe(1)
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^Error: .*default\.db/)
      expect(snapshot(q.dir)).toEqual(before)
    } finally {
      removeDir(q.dir)
    }
  })
})
