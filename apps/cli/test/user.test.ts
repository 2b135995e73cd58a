/** `aegis user …` through the built CLI: bootstrap, the first admin, tokens, the last admin. */

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI_ROOT, initProject, type Project, parseJson, removeDir, snapshot } from './helpers/run-cli.js'

/** Written out, not imported: the test fails when the refusal loses its meaning or way out. */
const INVALID_TOKEN_LINE =
  "Invalid user token: AEGIS_USER_TOKEN is no user's token (mistyped, or regenerated or removed since); an admin can issue a new one: aegis user regenerate-token --name <you>"

const projects: Project[] = []
afterEach(() => {
  for (const p of projects.splice(0)) removeDir(p.dir)
})
async function project(): Promise<Project> {
  const p = await initProject()
  projects.push(p)
  return p
}

interface Issued {
  name: string
  role: string
  token: string
}

async function addUser(p: Project, name: string, role: string, token?: string): Promise<Issued> {
  const r = await p.run(['user', 'add', '--name', name, '--role', role, '--json'], {
    env: { AEGIS_USER_TOKEN: token },
  })
  expect(r.code, r.stderr).toBe(0)
  return parseJson<Issued>(r)
}

const as = (token: string) => ({ env: { AEGIS_USER_TOKEN: token } })

describe('bootstrap', () => {
  it('runs every command without a token while no user exists, ignoring a stray token', async () => {
    const p = await project()
    expect((await p.run(['vault', 'list'])).code).toBe(0)
    expect((await p.run(['user', 'list', '--json'])).stdout.trim()).toBe('[]')
    expect((await p.run(['vault', 'vaults'], as('garbage'))).code).toBe(0)
    for (const args of [
      ['user', 'role', '--name', 'ghost', '--role', 'viewer'],
      ['user', 'regenerate-token', '--name', 'ghost'],
      ['user', 'remove', '--name', 'ghost', '--confirm'],
    ]) {
      const r = await p.run(args)
      expect([r.code, r.stderr], args.join(' ')).toEqual([
        1,
        'Error: No user named "ghost" (aegis user list)\n',
      ])
    }
    expect(existsSync(join(p.dataDir, 'access.db'))).toBe(false)
  })

  it.each(['operator', 'viewer'])(
    'refuses a first user who is not an admin (%s), changing nothing',
    async (role) => {
      const p = await project()
      const before = snapshot(p.dir)
      const r = await p.run(['user', 'add', '--name', 'bob', '--role', role])
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(
        `Error: The first user must be an admin: "bob" would be ${role}, and nobody could then manage users\n`,
      )
      expect(snapshot(p.dir)).toEqual(before)
    },
  )

  it('ends with the first admin: the token is printed once, and every command then needs one', async () => {
    const p = await project()
    const r = await p.run(['user', 'add', '--name', 'root', '--role', 'admin'])
    expect(r.code, r.stderr).toBe(0)
    const token = /aegis_user_\S+/.exec(r.stdout)?.[0] as string
    expect(r.stdout).toContain('shown once')
    expect(r.stdout).toContain('RBAC is now on')
    expect((await p.run(['vault', 'list'])).stderr).toBe(
      'Error: Authentication required (set AEGIS_USER_TOKEN)\n',
    )
    expect((await p.run(['vault', 'list'], as(token))).code).toBe(0)
    // A second bootstrap admin is not possible: bootstrap is over.
    const late = await p.run(['user', 'add', '--name', 'late', '--role', 'admin'])
    expect([late.code, late.stderr]).toEqual([1, 'Error: Authentication required (set AEGIS_USER_TOKEN)\n'])
  })

  it('does not reopen when every user row is deleted behind the CLI, nor when access.db is deleted (user recover is the way back)', async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    // The CLI cannot remove the last admin; do what an editor of the file would do.
    const Database = createRequire(join(CLI_ROOT, '../../packages/access/package.json'))('better-sqlite3')
    const db = new Database(join(p.dataDir, 'access.db'))
    db.prepare('DELETE FROM users').run()
    db.close()
    expect((await p.run(['vault', 'list'])).stderr).toBe(
      'Error: Authentication required (set AEGIS_USER_TOKEN)\n',
    )
    expect((await p.run(['vault', 'list'], as(root.token))).stderr).toBe(`Error: ${INVALID_TOKEN_LINE}\n`)
    expect((await p.run(['user', 'add', '--name', 'again', '--role', 'admin'])).code).toBe(1)
    // Deleting access.db is not bootstrap again: the vault remembers RBAC was on.
    rmSync(join(p.dataDir, 'access.db'))
    expect((await p.run(['vault', 'list'])).stderr).toMatch(
      /^Error: RBAC is on for .*aegis user recover --name <name>\n$/,
    )
    // The documented recovery: the holder of the master key adds a new first admin.
    const recovered = await p.run(['user', 'recover', '--name', 'root2', '--json'])
    expect(recovered.code, recovered.stderr).toBe(0)
    expect((await p.run(['vault', 'list'], as(JSON.parse(recovered.stdout).token))).code).toBe(0)
  })
})

describe('a damaged access.db', () => {
  it('every command refuses it in one line with the way out, changing nothing', async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    const file = join(p.dataDir, 'access.db')
    writeFileSync(file, 'x'.repeat(4096))
    const before = snapshot(p.dir)
    for (const args of [
      ['vault', 'list'],
      ['user', 'list'],
      ['agent', 'add', '--name', 'a'],
    ]) {
      const r = await p.run(args, as(root.token))
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(
        `Error: User store is corrupted: ${file} is not a valid database: restore it from a backup, or move it aside: where RBAC was on, the holder of the master key then adds a new first admin (aegis user recover --name <name>); where it never was, that is bootstrap (aegis user add --name <name> --role admin)\n`,
      )
    }
    expect(snapshot(p.dir)).toEqual(before)
  })
})

describe('users and tokens', () => {
  it('lists names, roles and times only: never a token, its id or its hash', async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    const alice = await addUser(p, 'alice', 'operator', root.token)
    const json = await p.run(['user', 'list', '--json'], as(root.token))
    const table = await p.run(['user', 'list'], as(root.token))
    const rows = parseJson<Record<string, unknown>[]>(json)
    expect(rows.map((u) => Object.keys(u).sort())).toEqual([
      ['createdAt', 'lastUsedAt', 'name', 'role', 'updatedAt'],
      ['createdAt', 'lastUsedAt', 'name', 'role', 'updatedAt'],
    ])
    expect(rows.map((u) => [u.name, u.role])).toEqual([
      ['alice', 'operator'],
      ['root', 'admin'],
    ])
    for (const out of [json.stdout, table.stdout, json.stderr, table.stderr]) {
      for (const t of [root.token, alice.token]) {
        expect(out).not.toContain(t.slice(11, 19))
        expect(out).not.toContain(t.slice(20))
      }
    }
  })

  it("user list shows when each user's token was last used (never, until a command presents it)", async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    const alice = await addUser(p, 'alice', 'operator', root.token)
    const lastUse = async () =>
      Object.fromEntries(
        parseJson<{ name: string; lastUsedAt: string | null }[]>(
          await p.run(['user', 'list', '--json'], as(root.token)),
        ).map((u) => [u.name, u.lastUsedAt]),
      )
    expect((await lastUse()).alice).toBeNull()
    const before = Date.now()
    expect((await p.run(['agent', 'list'], as(alice.token))).code).toBe(0)
    const used = (await lastUse()).alice
    expect(Date.parse(used ?? '')).toBeGreaterThanOrEqual(before - 1000)
    // A second command within the minute writes nothing: the recorded use stands.
    expect((await p.run(['agent', 'list'], as(alice.token))).code).toBe(0)
    expect((await lastUse()).alice).toBe(used)
    const table = await p.run(['user', 'list'], as(root.token))
    expect(table.stdout).toMatch(/LAST USED/)
    expect(table.stdout).toMatch(new RegExp(`alice\\s+operator\\s+\\S+\\s+\\S+\\s+${used}`))
    await p.run(['user', 'regenerate-token', '--name', 'alice'], as(root.token))
    expect((await p.run(['user', 'list'], as(root.token))).stdout).toMatch(
      /alice\s+operator\s+\S+\s+\S+\s+never/,
    )
  })

  it('regenerate-token invalidates the old token at once; remove revokes; role changes what is allowed', async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    const alice = await addUser(p, 'alice', 'operator', root.token)
    expect((await p.run(['agent', 'list'], as(alice.token))).code).toBe(0)

    const regen = await p.run(['user', 'regenerate-token', '--name', 'alice', '--json'], as(root.token))
    const fresh = parseJson<Issued>(regen)
    expect(fresh).toMatchObject({ name: 'alice', role: 'operator' })
    expect(fresh.token).not.toBe(alice.token)
    expect((await p.run(['agent', 'list'], as(alice.token))).stderr).toBe(`Error: ${INVALID_TOKEN_LINE}\n`)
    expect((await p.run(['agent', 'list'], as(fresh.token))).code).toBe(0)

    expect((await p.run(['user', 'role', '--name', 'alice', '--role', 'viewer'], as(root.token))).code).toBe(
      0,
    )
    expect((await p.run(['agent', 'list'], as(fresh.token))).stderr).toBe(
      `Error: Permission denied: viewer may not agent:read (an admin can change your role: aegis user role --name <you> --role <role>)\n`,
    )

    const before = snapshot(p.dir)
    const noConfirm = await p.run(['user', 'remove', '--name', 'alice'], as(root.token))
    expect([noConfirm.code, noConfirm.stderr]).toEqual([
      1,
      'Error: Not removing user "alice" without --confirm\n',
    ])
    expect(snapshot(p.dir)).toEqual(before)
    expect((await p.run(['user', 'remove', '--name', 'alice', '--confirm'], as(root.token))).code).toBe(0)
    expect((await p.run(['vault', 'list'], as(fresh.token))).stderr).toBe(`Error: ${INVALID_TOKEN_LINE}\n`)
  })

  it('refuses a one-character typo in a token without touching anything', async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    const before = snapshot(p.dir)
    for (let i = 11; i < root.token.length; i += 7) {
      if (root.token[i] === '_') continue
      const typo = root.token.slice(0, i) + (root.token[i] === 'Q' ? 'R' : 'Q') + root.token.slice(i + 1)
      const r = await p.run(['user', 'list'], as(typo))
      expect([r.code, r.stderr], `typo at ${i}`).toEqual([1, `Error: ${INVALID_TOKEN_LINE}\n`])
    }
    expect(snapshot(p.dir)).toEqual(before)
  })

  it('names the problem: duplicate user, unknown user, bad name (not echoed), bad role (parser)', async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    const dup = await p.run(['user', 'add', '--name', 'root', '--role', 'viewer'], as(root.token))
    expect(dup.stderr).toBe('Error: User "root" already exists\n')
    const ghost = await p.run(['user', 'role', '--name', 'ghost', '--role', 'viewer'], as(root.token))
    expect(ghost.stderr).toBe('Error: No user named "ghost" (aegis user list)\n')
    const bad = await p.run(['user', 'add', '--name', 'has space', '--role', 'viewer'], as(root.token))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^Error: Invalid user name: /)
    expect(bad.stderr).not.toContain('has space')
    const role = await p.run(['user', 'add', '--name', 'x', '--role', 'root'], as(root.token))
    expect(role.code).toBe(2)
  })
})

describe('the last admin', () => {
  it('cannot be demoted or removed, by itself or anyone; a second admin makes both possible', async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    // Its token's last use recorded first (a use within the minute writes nothing): the snapshot
    // below then shows that the refusals change nothing.
    expect((await p.run(['user', 'list'], as(root.token))).code).toBe(0)
    const before = snapshot(p.dir)
    const demote = await p.run(['user', 'role', '--name', 'root', '--role', 'operator'], as(root.token))
    expect([demote.code, demote.stderr]).toEqual([
      1,
      'Error: Cannot demote "root": it is the last admin (make another user admin first)\n',
    ])
    const remove = await p.run(['user', 'remove', '--name', 'root', '--confirm'], as(root.token))
    expect([remove.code, remove.stderr]).toEqual([
      1,
      'Error: Cannot remove "root": it is the last admin (make another user admin first)\n',
    ])
    expect(snapshot(p.dir)).toEqual(before)
    await addUser(p, 'second', 'admin', root.token)
    expect((await p.run(['user', 'role', '--name', 'root', '--role', 'viewer'], as(root.token))).code).toBe(0)
    // root is a viewer now: it may not even list users.
    expect((await p.run(['user', 'list'], as(root.token))).stderr).toBe(
      `Error: Permission denied: viewer may not user:read (an admin can change your role: aegis user role --name <you> --role <role>)\n`,
    )
  })

  it('survives two CLIs demoting the only two admins at the same time, round after round', async () => {
    const p = await project()
    const a = await addUser(p, 'a', 'admin')
    const b = await addUser(p, 'b', 'admin', a.token)
    for (let round = 0; round < 8; round++) {
      const [ra, rb] = await Promise.all([
        p.run(['user', 'role', '--name', 'a', '--role', 'operator'], as(a.token)),
        p.run(['user', 'role', '--name', 'b', '--role', 'operator'], as(b.token)),
      ])
      const outcomes = [ra, rb].map((r) =>
        r.code === 0 ? 'ok' : r.stderr.includes('last admin') ? 'last' : r.stderr,
      )
      expect(outcomes.sort(), `round ${round}`).toEqual(['last', 'ok'])
      const winner = ra?.code === 0 ? b : a
      const list = parseJson<{ name: string; role: string }[]>(
        await p.run(['user', 'list', '--json'], as(winner.token)),
      )
      expect(list.filter((u) => u.role === 'admin').map((u) => u.name)).toEqual([winner.name])
      const loser = winner === a ? 'b' : 'a'
      expect((await p.run(['user', 'role', '--name', loser, '--role', 'admin'], as(winner.token))).code).toBe(
        0,
      )
    }
  }, 120_000)
})

describe('mcp config under RBAC', () => {
  it('names AEGIS_USER_TOKEN (placeholder or VS Code input) once RBAC is on, and not before', async () => {
    const p = await project()
    const before = parseJson<{ mcpServers: { aegis: { env: Record<string, string> } } }>(
      await p.run(['mcp', 'config', 'claude', '--json']),
    )
    expect(Object.keys(before.mcpServers.aegis.env)).not.toContain('AEGIS_USER_TOKEN')
    const root = await addUser(p, 'root', 'admin')
    const claude = await p.run(['mcp', 'config', 'claude', '--json'], as(root.token))
    const doc = parseJson<{ mcpServers: { aegis: { env: Record<string, string> } } }>(claude)
    expect(doc.mcpServers.aegis.env.AEGIS_USER_TOKEN).toBe('<paste user token>')
    expect(claude.stderr).toContain('AEGIS_USER_TOKEN')
    expect(claude.stdout).not.toContain(root.token)
    const vscode = parseJson<{
      servers: { aegis: { env: Record<string, string> } }
      inputs: { id: string }[]
    }>(await p.run(['mcp', 'config', 'vscode', '--json'], as(root.token)))
    expect(vscode.servers.aegis.env.AEGIS_USER_TOKEN).toBe(['${input:', 'aegis-user-token}'].join(''))
    expect(vscode.inputs.map((i) => i.id)).toContain('aegis-user-token')
  })
})

describe('a config that does not load, with RBAC on', () => {
  it('stops every command on the config error; only the diagnostics report it (and read nothing else)', async () => {
    const p = await project()
    await addUser(p, 'root', 'admin')
    writeFileSync(join(p.dir, 'aegis.config.yaml'), 'gate:\n  port: high\n')
    for (const args of [['vault', 'list'], ['user', 'list'], ['gate']]) {
      const r = await p.run(args)
      expect([r.code, r.stderr], args.join(' ')).toEqual([1, expect.stringMatching(/^Error: .*gate\.port/)])
    }
    const doctor = await p.run(['doctor', '--json'])
    expect(doctor.code).toBe(1)
    expect(parseJson<{ checks: { name: string }[] }>(doctor).checks.map((c) => c.name)).toEqual(['config'])
  })
})

describe('init and RBAC', () => {
  it('governs init by the data directory it would write to: a fresh one is bootstrap, one with users is not', async () => {
    const p = await project()
    const root = await addUser(p, 'root', 'admin')
    const op = await addUser(p, 'op', 'operator', root.token)
    // The token's last use recorded first (a use within the minute writes nothing).
    expect((await p.run(['agent', 'list'], as(op.token))).code).toBe(0)
    // The config is gone but the data directory (with its users) is not: init would write there.
    rmSync(join(p.dir, 'aegis.config.yaml'))
    const before = snapshot(p.dir)
    const anonymous = await p.run(['init'], { env: { AEGIS_VAULT: 'other' } })
    expect([anonymous.code, anonymous.stderr]).toEqual([
      1,
      'Error: Authentication required (set AEGIS_USER_TOKEN)\n',
    ])
    const operator = await p.run(['init'], { env: { AEGIS_VAULT: 'other', AEGIS_USER_TOKEN: op.token } })
    expect([operator.code, operator.stderr]).toEqual([
      1,
      `Error: Permission denied: operator may not vault:manage (an admin can change your role: aegis user role --name <you> --role <role>)\n`,
    ])
    expect(snapshot(p.dir)).toEqual(before)
    const admin = await p.run(['init', '--json'], {
      env: { AEGIS_VAULT: 'other', AEGIS_USER_TOKEN: root.token },
    })
    expect(admin.code, admin.stderr).toBe(0)
    expect(existsSync(join(p.dataDir, 'vaults', 'other.db'))).toBe(true)
    // A config in a new folder names a new data directory beside it: bootstrap, no token needed.
    mkdirSync(join(p.dir, 'fresh'))
    const fresh = await p.run(['init', '--config', 'fresh/aegis.config.yaml'])
    expect(fresh.code, fresh.stderr).toBe(0)
    expect(existsSync(join(p.dir, 'fresh', '.aegis', 'vaults', 'default.db'))).toBe(true)
  })
})
