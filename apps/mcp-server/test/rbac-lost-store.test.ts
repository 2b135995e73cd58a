/**
 * The standalone server applies the CLI's rule: no user is bootstrap only while RBAC was never turned
 * on. With access.db deleted after the first user was added, it does not start — whether the vault's
 * key-less hint says so (checked before the vault is opened) or only its sealed state (stripped hint).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createVault } from '@aegis/vault'
import { afterEach, describe, expect, it } from 'vitest'
import { editVaultFile } from '../../../packages/vault/test/fixtures/corrupt-rows.js'

const BIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
if (!existsSync(BIN)) throw new Error('apps/mcp-server is not built')

const MASTER_KEY = 'mcp-server-lost-users-key-0a9b8c7d6e5f4a3b2c1d0e9f'
const REFUSED =
  /^aegis-mcp-server: RBAC is on for .*\/data \(its first user was added 2026-03-04T05:06:07\.000Z\), but access\.db holds no user: it was deleted, emptied or replaced\. Refused; restore access\.db from a backup, or, holding the master key or its key shares, add a new first admin with: aegis user recover --name <name>$/

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A data directory whose vault says RBAC was turned on, and no access.db at all. */
function lostUsers(): { dir: string; configFile: string; vaultFile: string } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'aegis-mcp-lost-')))
  dirs.push(dir)
  const vault = createVault({ dataDir: join(dir, 'data'), name: 'default', masterKey: MASTER_KEY })
  vault.recordRbacOn('2026-03-04T05:06:07.000Z')
  vault.close()
  const configFile = join(dir, 'aegis.config.yaml')
  writeFileSync(configFile, 'vault:\n  data_dir: ./data\n')
  return { dir, configFile, vaultFile: join(dir, 'data', 'vaults', 'default.db') }
}

const run = (dir: string, configFile: string) =>
  spawnSync(process.execPath, [BIN], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      AEGIS_CONFIG: configFile,
      AEGIS_MASTER_KEY: MASTER_KEY,
    },
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
  })

describe('aegis-mcp-server with access.db lost', () => {
  it('refuses to start when the hint says RBAC is on (exit 1, one line)', () => {
    const { dir, configFile } = lostUsers()
    const r = run(dir, configFile)
    expect(r.stderr.trim()).toMatch(REFUSED)
    expect([r.status, r.stdout]).toEqual([1, ''])
  })

  it('refuses to start when only the sealed state says so (hint stripped)', () => {
    const { dir, configFile, vaultFile } = lostUsers()
    editVaultFile(vaultFile, "DELETE FROM meta WHERE key = 'rbac_since'")
    const r = run(dir, configFile)
    expect(r.stderr.trim()).toMatch(REFUSED)
    expect([r.status, r.stdout]).toEqual([1, ''])
  })
})
