/**
 * Bootstrap (no user: every command unrestricted) ends for good with the first user, and the vault
 * keeps that fact sealed: deleting, emptying or replacing access.db — what someone who can write the
 * data directory but holds no user token would do — does not turn RBAC off. `user recover` is the
 * way back for the holder of the master key.
 */
import { copyFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { openVault } from '@aegis/vault'
import { afterEach, describe, expect, it } from 'vitest'
import { initProject, type Project, parseJson, removeDir } from './helpers/run-cli.js'
import { Database } from './helpers/sqlite.js'

const REFUSED =
  /^Error: RBAC is on for .* \(its first user was added .*\), but access\.db holds no user: it was deleted, emptied or replaced\. Refused; restore access\.db from a backup, or, holding the master key or its key shares, add a new first admin with: aegis user recover --name <name>\n$/

const projects: Project[] = []
afterEach(() => {
  for (const p of projects.splice(0)) removeDir(p.dir)
})

async function projectWithAdmin(
  env: Record<string, string | undefined> = {},
): Promise<{ project: Project; token: string }> {
  const project = await initProject()
  projects.push(project)
  const added = await project.run(['user', 'add', '--name', 'admin', '--role', 'admin', '--json'], { env })
  expect(added.code, added.stderr).toBe(0)
  return { project, token: parseJson<{ token: string }>(added).token }
}

function edit(file: string, sql: string): void {
  const db = new Database(file)
  try {
    db.exec(sql)
  } finally {
    db.close()
  }
}

const accessDb = (p: Project) => join(p.dataDir, 'access.db')
const vaultDb = (p: Project) => join(p.dataDir, 'vaults', 'default.db')

describe('a lost access.db does not turn RBAC off', () => {
  it('the first user add seals "RBAC on" into the vault', async () => {
    const { project } = await projectWithAdmin()
    const vault = openVault({ dataDir: project.dataDir, name: 'default', masterKey: project.key })
    try {
      expect(vault.rbacSince()).toMatch(/^\d{4}-\d\d-\d\dT/)
    } finally {
      vault.close()
    }
  })

  it.each([
    ['deleted', (p: Project) => rmSync(accessDb(p))],
    [
      'emptied (users and settings)',
      (p: Project) => edit(accessDb(p), 'DELETE FROM users; DELETE FROM settings'),
    ],
    [
      'replaced by a store with no user',
      (p: Project) => {
        rmSync(accessDb(p))
        new Database(accessDb(p)).close()
      },
    ],
  ])('%s: commands without a token are refused and nothing is created', async (_label, damage) => {
    const { project } = await projectWithAdmin()
    damage(project)
    const hadFile = existsSync(accessDb(project))
    for (const argv of [
      ['vault', 'list'],
      ['ledger', 'show'],
      ['user', 'add', '--name', 'mallory', '--role', 'admin'],
    ]) {
      const r = await project.run(argv)
      expect({ argv, code: r.code, stdout: r.stdout }).toEqual({ argv, code: 1, stdout: '' })
      expect(r.stderr).toMatch(REFUSED)
    }
    // Even without the master key (the plaintext hint in the vault says RBAC is on).
    const keyless = await project.run(['ledger', 'show'], { env: { AEGIS_MASTER_KEY: undefined } })
    expect(keyless.code).toBe(1)
    expect(keyless.stderr).toMatch(REFUSED)
    expect(existsSync(accessDb(project))).toBe(hadFile)
  })

  it('the hint stripped from the vault as well: a command that opens the vault is refused by its sealed state', async () => {
    const { project } = await projectWithAdmin()
    rmSync(accessDb(project))
    edit(vaultDb(project), "DELETE FROM meta WHERE key = 'rbac_since'")
    for (const args of [
      ['vault', 'list'],
      ['agent', 'add', '--name', 'mallory'],
    ]) {
      const r = await project.run(args)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(REFUSED)
    }
    expect(existsSync(accessDb(project))).toBe(false)
  })

  it('a data directory whose first user predates the record gets it on the next authenticated command', async () => {
    // No key at hand when the first user is added: nothing can be sealed then.
    const { project, token } = await projectWithAdmin({ AEGIS_MASTER_KEY: undefined })
    const vault = () => openVault({ dataDir: project.dataDir, name: 'default', masterKey: project.key })
    const before = vault()
    expect(before.rbacSince()).toBeNull()
    before.close()
    const listed = await project.run(['vault', 'list'], { env: { AEGIS_USER_TOKEN: token } })
    expect(listed.code, listed.stderr).toBe(0)
    const after = vault()
    expect(after.rbacSince()).not.toBeNull()
    after.close()
    rmSync(accessDb(project))
    edit(vaultDb(project), "DELETE FROM meta WHERE key = 'rbac_since'")
    expect((await project.run(['vault', 'list'])).stderr).toMatch(REFUSED)
  })

  it('user recover: the holder of the master key adds a new first admin; the old token is gone', async () => {
    const { project, token } = await projectWithAdmin()
    const backup = join(project.dir, 'access.bak')
    copyFileSync(accessDb(project), backup)
    rmSync(accessDb(project))

    const keyless = await project.run(['user', 'recover', '--name', 'root'], {
      env: { AEGIS_MASTER_KEY: undefined },
    })
    expect(keyless.code).toBe(1)
    expect(keyless.stderr).toMatch(/AEGIS_MASTER_KEY is not set/)
    const wrongKey = await project.run(['user', 'recover', '--name', 'root'], {
      env: { AEGIS_MASTER_KEY: 'not-the-key-0123456789abcdefghijklmnopq' },
    })
    expect(wrongKey.code).toBe(1)
    expect(existsSync(accessDb(project))).toBe(false)

    const recovered = await project.run(['user', 'recover', '--name', 'root', '--json'])
    expect(recovered.code, recovered.stderr).toBe(0)
    const { token: rootToken } = parseJson<{ token: string; role: string }>(recovered)
    expect((await project.run(['user', 'list'], { env: { AEGIS_USER_TOKEN: rootToken } })).code).toBe(0)
    expect((await project.run(['user', 'list'], { env: { AEGIS_USER_TOKEN: token } })).code).toBe(1)
    expect((await project.run(['ledger', 'show'])).stderr).toMatch(/Authentication required/)

    // Only for a lost store: with users in it, recover is refused.
    const again = await project.run(['user', 'recover', '--name', 'root2'], {
      env: { AEGIS_USER_TOKEN: rootToken },
    })
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/access\.db holds users/)
  })

  it('user recover with a split key: the shares prove it (vault unseal needs an admin, so cannot)', async () => {
    const { project, token } = await projectWithAdmin()
    const split = await project.run(['vault', 'split', '--shares', '3', '--threshold', '2', '--json'], {
      env: { AEGIS_USER_TOKEN: token },
    })
    expect(split.code, split.stderr).toBe(0)
    const { shares } = parseJson<{ shares: string[] }>(split)
    rmSync(accessDb(project))
    const keyless = { AEGIS_MASTER_KEY: undefined }

    // The way the refusal points at does not work with a split key: unsealing needs an admin.
    const unseal = await project.run(['vault', 'unseal', '--key-share', '-'], {
      env: keyless,
      input: `${shares[0]}\n${shares[1]}\n`,
    })
    expect(unseal.stderr).toMatch(REFUSED)
    const sealed = await project.run(['user', 'recover', '--name', 'root'], { env: keyless })
    expect(sealed.code).toBe(1)
    expect(sealed.stderr).toBe(
      'Error: Vault is sealed, and vault unseal needs an admin: prove the key with 2 of its 3 key shares instead (aegis user recover --name root --key-share - < shares.txt)\n',
    )
    const tooFew = await project.run(['user', 'recover', '--name', 'root', '--key-share', '-'], {
      env: keyless,
      input: `${shares[2]}\n`,
    })
    expect(tooFew.code).toBe(1)
    expect(tooFew.stderr).toMatch(/^Error: 1 share given, 2 needed/)
    expect(existsSync(accessDb(project))).toBe(false)

    const recovered = await project.run(['user', 'recover', '--name', 'root', '--key-share', '-', '--json'], {
      env: keyless,
      input: `${shares[2]}\n${shares[0]}\n`,
    })
    expect(recovered.code, recovered.stderr).toBe(0)
    expect(recovered.stderr).toBe('')
    const { token: rootToken } = parseJson<{ token: string }>(recovered)
    const list = await project.run(['user', 'list', '--json'], {
      env: { ...keyless, AEGIS_USER_TOKEN: rootToken },
    })
    expect(list.code, list.stderr).toBe(0)
    expect(parseJson<{ name: string; role: string }[]>(list)).toMatchObject([{ name: 'root', role: 'admin' }])
    // Nothing of the key was written: the CLI stays sealed until the new admin unseals.
    expect(existsSync(join(project.dataDir, 'unsealed.key'))).toBe(false)
    const unsealed = await project.run(['vault', 'unseal', '--key-share', '-'], {
      env: { ...keyless, AEGIS_USER_TOKEN: rootToken },
      input: `${shares[0]}\n${shares[1]}\n`,
    })
    expect(unsealed.code, unsealed.stderr).toBe(0)
  })

  it('recover where RBAC was never on points at user add', async () => {
    const project = await initProject()
    projects.push(project)
    const r = await project.run(['user', 'recover', '--name', 'root'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/RBAC was never turned on here/)
    expect(existsSync(accessDb(project))).toBe(false)
  })
})
