/**
 * RBAC through the built CLI: every command × every role, from @aegis/access's one table, plus the
 * refusals every command shares (no token, a bad token). A refused command exits 1 with the exact
 * line and leaves every file of the project as it was.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  authorize,
  COMMAND_PERMISSIONS,
  commandPermission,
  type Permission,
  ROLES,
  type Role,
} from '@aegis/access'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CLI_ROOT,
  type CliResult,
  initProject,
  type Project,
  parseJson,
  removeDir,
  snapshot,
} from './helpers/run-cli.js'

/** Every command id of the built CLI (its oclif manifest). */
const COMMAND_IDS = Object.keys(
  (JSON.parse(readFileSync(join(CLI_ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: object }).commands,
).sort()

/**
 * Arguments that get each command past the parser (so RBAC decides), aimed at things that do not
 * exist where the command would change something, so an allowed run leaves the others' state alone.
 * A new command without a row here fails the first test.
 */
const ARGS: Record<string, { args: string[]; input?: string }> = {
  // The external gate's port must be a real one: refused after RBAC, so the command ends.
  dashboard: { args: ['--no-gate', '--gate-port', '0'] },
  doctor: { args: [] },
  gate: { args: [] },
  help: { args: [] },
  init: { args: [] },
  run: { args: ['--', 'true'] },
  'agent:add': { args: ['--name', 'agent-%role'] },
  'agent:grant': { args: ['--agent', 'ghost', '--credential', 'ghost'] },
  'agent:list': { args: [] },
  'agent:regenerate': { args: ['--name', 'ghost'] },
  'agent:remove': { args: ['--name', 'ghost'] },
  'agent:revoke': { args: ['--agent', 'ghost', '--credential', 'ghost'] },
  'agent:set-rate-limit': { args: ['--agent', 'ghost', '--limit', '5/min'] },
  'config:show': { args: [] },
  'config:validate': { args: [] },
  // On SQLite migrate is refused after RBAC (nothing to migrate), status reads nothing.
  'storage:migrate': { args: [] },
  'storage:status': { args: [] },
  'ledger:export': { args: ['--format', 'json'] },
  'ledger:show': { args: [] },
  'ledger:stats': { args: [] },
  'policy:list': { args: [] },
  'policy:test': { args: ['--agent', 'a', '--service', 's', '--method', 'GET', '--path', '/x'] },
  'policy:validate': { args: [] },
  'user:add': { args: ['--name', 'user-%role', '--role', 'viewer'] },
  'user:list': { args: [] },
  'user:regenerate-token': { args: ['--name', 'ghost'] },
  'user:recover': { args: ['--name', 'recovered-%role'] },
  'user:remove': { args: ['--name', 'ghost', '--confirm'] },
  'user:role': { args: ['--name', 'ghost', '--role', 'viewer'] },
  'vault:add': {
    args: ['--name', 'cred-%role', '--service', 'svc-%role', '--domains', 'api.example.com', '--secret', '-'],
    input: 'sk-rbac-test-0123456789abcdef\n',
  },
  'vault:create': { args: ['--name', 'vault-%role'] },
  'vault:destroy': { args: ['--name', 'ghost', '--confirm'] },
  'vault:list': { args: [] },
  'vault:remove': { args: ['--name', 'ghost'] },
  'vault:reseal': { args: ['--name', 'ghost'] },
  'vault:rotate': { args: ['--name', 'ghost', '--secret', '-'], input: 'sk-rbac-rotated-0123456789\n' },
  'vault:update': { args: ['--name', 'ghost', '--rate-limit', '5/min'] },
  'vault:vaults': { args: [] },
  // Refused after RBAC (a threshold above the share count, no split to seal, a malformed share), so
  // an allowed run never splits or seals the key the other rows need.
  'vault:split': { args: ['--shares', '2', '--threshold', '3'] },
  'vault:seal': { args: [] },
  'vault:unseal': { args: ['--key-share', 'not-a-share'] },
  'webhook:add': { args: ['--url', 'https://hooks.example.com/%role', '--events', 'blocked_request'] },
  'webhook:list': { args: [] },
  'webhook:deliveries': { args: [] },
  'webhook:remove': { args: ['--id', 'ghost'] },
  'webhook:test': { args: ['--id', 'ghost'] },
  'webhook:check-expiry': { args: [] },
  'webhook:redeliver': { args: ['--delivery', '999999'] },
  'webhook:enable': { args: ['--id', 'ghost'] },
  'mcp:config': { args: ['claude'] },
  'mcp:serve': { args: [] },
}

/** The lines only an RBAC refusal prints. */
const RBAC_REFUSAL = /may not |Authentication required|Invalid user token|has no permission/

function argvOf(id: string, role: string): { argv: string[]; input?: string } {
  const row = ARGS[id]
  if (row === undefined) throw new Error(`no ARGS row for ${id}`)
  return { argv: [...id.split(':'), ...row.args.map((a) => a.replace('%role', role))], input: row.input }
}

describe('the command table', () => {
  it('has a permission (or an explicit open row) for every command of the built CLI', () => {
    const unmapped = COMMAND_IDS.filter((id) => commandPermission(id) === undefined)
    expect(unmapped, 'commands without a row in @aegis/access COMMAND_PERMISSIONS').toEqual([])
    expect(
      COMMAND_IDS.filter((id) => ARGS[id] === undefined),
      'commands without an ARGS row here',
    ).toEqual([])
  })

  it('has no row for a command that does not exist', () => {
    const commands = new Set(COMMAND_IDS)
    const stale = Object.keys(COMMAND_PERMISSIONS).filter((id) => !commands.has(id))
    expect(stale).toEqual([])
  })
})

describe('every role × every command', () => {
  let project: Project
  const tokens = {} as Record<Role, string>

  beforeAll(async () => {
    project = await initProject()
    for (const role of ROLES) {
      const r = await project.run(['user', 'add', '--name', role, '--role', role, '--json'], {
        env: role === 'admin' ? {} : { AEGIS_USER_TOKEN: tokens.admin },
      })
      expect(r.code, r.stderr).toBe(0)
      tokens[role] = parseJson<{ token: string }>(r).token
    }
  })
  afterAll(() => removeDir(project.dir))

  // Long-running commands (gate, mcp serve) that pass RBAC then stop at the missing policies folder.
  const env = (extra: Record<string, string>) => ({ AEGIS_POLICIES_DIR: 'no-such-policies', ...extra })

  async function runAll(
    ids: readonly string[],
    role: string,
    extra: Record<string, string>,
  ): Promise<Map<string, CliResult>> {
    const results = new Map<string, CliResult>()
    // Two at a time: the machine is shared.
    const queue = [...ids]
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const { argv, input } = argvOf(id, role)
        results.set(id, await project.run(argv, { env: env(extra), input }))
      }
    }
    await Promise.all([worker(), worker()])
    return results
  }

  for (const role of ROLES) {
    it(`${role}: refused commands exit 1 with "${role} may not <permission>" and change nothing; the rest pass RBAC`, async () => {
      const ids = COMMAND_IDS.filter((id) => commandPermission(id) !== undefined)
      const permissionOf = (id: string) => commandPermission(id) as Permission | null
      const refused = ids.filter((id) => {
        const p = permissionOf(id)
        return p !== null && !authorize({ kind: 'user', id: 0, name: role, role }, p).allowed
      })
      const allowed = ids.filter((id) => !refused.includes(id))
      expect(allowed.length + refused.length).toBe(COMMAND_IDS.length)

      // The token's last use recorded first (any command presents it; a use within the minute
      // writes nothing): the snapshot then shows the refusals change nothing.
      await project.run(['user', 'list'], { env: { AEGIS_USER_TOKEN: tokens[role] } })
      const before = snapshot(project.dir)
      const refusals = await runAll(refused, role, { AEGIS_USER_TOKEN: tokens[role] })
      expect(snapshot(project.dir)).toEqual(before)
      for (const id of refused) {
        const r = refusals.get(id) as CliResult
        expect({ id, code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
          id,
          code: 1,
          stderr: `Error: Permission denied: ${role} may not ${permissionOf(id)} (an admin can change your role: aegis user role --name <you> --role <role>)\n`,
          stdout: '',
        })
      }

      const passes = await runAll(allowed, role, { AEGIS_USER_TOKEN: tokens[role] })
      for (const id of allowed) {
        const r = passes.get(id) as CliResult
        expect(RBAC_REFUSAL.test(r.stderr), `${id} as ${role}: ${r.stderr}`).toBe(false)
        expect(r.code, `${id} as ${role}: a parse error would never reach RBAC`).not.toBe(2)
      }
    }, 240_000)
  }

  it('without AEGIS_USER_TOKEN every command but help is refused with "Authentication required", changing nothing', async () => {
    const before = snapshot(project.dir)
    const results = await runAll(COMMAND_IDS, 'none', {})
    expect(snapshot(project.dir)).toEqual(before)
    for (const id of COMMAND_IDS) {
      const r = results.get(id) as CliResult
      if (commandPermission(id) === null) {
        expect(r.code, id).toBe(0)
        continue
      }
      expect({ id, code: r.code, stderr: r.stderr }).toEqual({
        id,
        code: 1,
        stderr: 'Error: Authentication required (set AEGIS_USER_TOKEN)\n',
      })
    }
  }, 240_000)

  it('with a token that fails its checksum, an unknown token or an agent token: "Invalid user token", nothing changed', async () => {
    const admin = tokens.admin
    const typo = admin.slice(0, 40) + (admin[40] === 'x' ? 'y' : 'x') + admin.slice(41)
    const bad = [
      typo,
      admin.slice(0, -1),
      // Well-formed, correct checksum, but nobody's: generated by another store.
      'aegis_user_00000000_000000000000000000000000000000000000000000000000',
      `aegis_${'A'.repeat(43)}`,
      'not-a-token',
    ]
    const before = snapshot(project.dir)
    for (const token of bad) {
      const results = await runAll(['vault:list', 'user:add', 'vault:add', 'gate'], 'bad', {
        AEGIS_USER_TOKEN: token,
      })
      for (const [id, r] of results) {
        expect({ id, token, code: r.code, stderr: r.stderr }).toEqual({
          id,
          token,
          code: 1,
          stderr:
            "Error: Invalid user token: AEGIS_USER_TOKEN is no user's token (mistyped, or regenerated or removed since); an admin can issue a new one: aegis user regenerate-token --name <you>\n",
        })
      }
    }
    expect(snapshot(project.dir)).toEqual(before)
  }, 240_000)

  it('words the refusals as the brief does (spot checks independent of the table)', async () => {
    const cases: [Role, string[], string, string?][] = [
      [
        'operator',
        ['vault', 'add', '--name', 'n', '--service', 's', '--domains', 'a.example.com', '--secret', '-'],
        'operator may not vault:write',
        'sk-x-0123456789abcdef',
      ],
      ['operator', ['vault', 'create', '--name', 'x'], 'operator may not vault:manage'],
      ['operator', ['user', 'list'], 'operator may not user:read'],
      ['viewer', ['gate'], 'viewer may not gate:start'],
      ['viewer', ['mcp', 'serve'], 'viewer may not gate:start'],
      ['viewer', ['agent', 'list'], 'viewer may not agent:read'],
      ['viewer', ['ledger', 'export', '--format', 'json'], 'viewer may not ledger:export'],
    ]
    for (const [role, argv, line, input] of cases) {
      const r = await project.run(argv, { env: { AEGIS_USER_TOKEN: tokens[role] }, input })
      expect([r.code, r.stderr]).toEqual([
        1,
        `Error: Permission denied: ${line} (an admin can change your role: aegis user role --name <you> --role <role>)\n`,
      ])
    }
  })

  it('keeps help, --version, a command --help and an unknown command open without a token', async () => {
    const help = await project.run(['help'])
    expect(help.code).toBe(0)
    expect((await project.run(['--version'])).code).toBe(0)
    const topic = await project.run(['vault', 'add', '--help'])
    expect(topic.code).toBe(0)
    expect(topic.stdout).toContain('--domains')
    const unknown = await project.run(['vualt', 'list'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('Did you mean vault list?')
  })
})
