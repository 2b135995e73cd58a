/** The standalone server under RBAC: starting it needs a user allowed gate:start, as `aegis mcp serve`. */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AccessStore, accessFile, addUser, BOOTSTRAP } from '@aegis/access'
import { createVault } from '@aegis/vault'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** Written out, not imported: the test fails when the refusal loses its meaning or way out. */
const INVALID_TOKEN_LINE =
  "Invalid user token: AEGIS_USER_TOKEN is no user's token (mistyped, or regenerated or removed since); an admin can issue a new one: aegis user regenerate-token --name <you>"

const BIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
if (!existsSync(BIN)) throw new Error('apps/mcp-server is not built')

const MASTER_KEY = 'mcp-server-rbac-key-5c1d0e9a8b7f6e5d4c3b2a1908f7e6d5'
let dir: string
let configFile: string
const tokens: Record<string, string> = {}

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'aegis-mcp-rbac-')))
  const dataDir = join(dir, 'data')
  createVault({ dataDir, name: 'default', masterKey: MASTER_KEY }).close()
  configFile = join(dir, 'aegis.config.yaml')
  writeFileSync(configFile, 'vault:\n  data_dir: ./data\n')
  const file = accessFile(dataDir)
  tokens.admin = addUser({ file, actor: BOOTSTRAP, name: 'admin', role: 'admin' }).token
  const store = AccessStore.open({ file }) as AccessStore
  const admin = store.resolveActor(tokens.admin)
  tokens.operator = store.addUser(admin, { name: 'op', role: 'operator' }).token
  tokens.viewer = store.addUser(admin, { name: 'view', role: 'viewer' }).token
  store.close()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, [BIN], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      AEGIS_CONFIG: configFile,
      AEGIS_MASTER_KEY: MASTER_KEY,
      ...env,
    },
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
  })

describe('aegis-mcp-server with RBAC on', () => {
  it.each([
    ['no token', {}, 'aegis-mcp-server: Authentication required (set AEGIS_USER_TOKEN)'],
    [
      'a viewer',
      { AEGIS_USER_TOKEN: 'viewer' },
      'aegis-mcp-server: Permission denied: viewer may not gate:start (an admin can change your role: aegis user role --name <you> --role operator)',
    ],
    ['a bad token', { AEGIS_USER_TOKEN: 'aegis_user_nope' }, `aegis-mcp-server: ${INVALID_TOKEN_LINE}`],
  ])('refuses to start for %s (exit 1, one line, stdout empty)', (_name, env, line) => {
    const withToken = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, tokens[v as string] ?? (v as string)]),
    )
    const r = run(withToken)
    expect([r.status, r.stderr.trim(), r.stdout]).toEqual([1, line, ''])
  })

  it.each(['operator', 'admin'])('starts for an %s (and stops when its input closes)', (role) => {
    const r = run({ AEGIS_USER_TOKEN: tokens[role] as string })
    expect(r.stderr).not.toMatch(/may not|Authentication required|Invalid user token/)
    expect(r.status).toBe(0)
  })
})
