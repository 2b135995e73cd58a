import { existsSync } from 'node:fs'
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
      [['vault', 'create', '--name', 'Bad Name'], {}, /^Error: vault name must match/],
      [
        ['vault', 'create', '--name', 'x'],
        { AEGIS_MASTER_KEY: undefined },
        /^Error: AEGIS_MASTER_KEY is not set/,
      ],
      [['vault', 'destroy', '--name', 'ghost', '--confirm'], {}, /^Error: .*ghost/],
      [['vault', 'list'], { AEGIS_VAULT: 'ghost' }, /^Error: No vault named "ghost"/],
    ]
    for (const [args, env, error] of cases) {
      const r = await p.run(args, { env })
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr).toMatch(error)
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    }
    expect(snapshot(p.dir)).toEqual(before)
  })
})
