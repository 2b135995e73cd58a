/**
 * The hosts that are not CLI commands — the gate's admin socket and the dashboard — apply the CLI's
 * rule to a lost access.db (deleted or emptied while they run): no user is bootstrap only while the
 * vault says RBAC was never turned on, by its key-less hint or its sealed state.
 */

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { openVault } from '@aegis/vault'
import { afterEach, describe, expect, it } from 'vitest'
import { openSqliteGateState } from '../src/lib/gate-state.js'
import { Browser, type RunningDashboard, startDashboard } from './dashboard/helpers.js'
import { initProject, type Project, parseJson, removeDir } from './helpers/run-cli.js'
import { Database } from './helpers/sqlite.js'

const LOST =
  /^RBAC is on for .* \(its first user was added .*\), but access\.db holds no user: it was deleted, emptied or replaced\. Refused; /

const projects: Project[] = []
const dashboards: RunningDashboard[] = []
afterEach(() => {
  for (const d of dashboards.splice(0)) d.child.kill('SIGKILL')
  for (const p of projects.splice(0)) removeDir(p.dir)
})

async function project(): Promise<Project> {
  const p = await initProject()
  projects.push(p)
  return p
}

function stripHint(p: Project): void {
  const db = new Database(join(p.dataDir, 'vaults', 'default.db'))
  try {
    db.exec("DELETE FROM meta WHERE key = 'rbac_since'")
  } finally {
    db.close()
  }
}

describe('the admin socket of a gate whose access.db is lost', () => {
  it('refuses (403) whether the hint or only the sealed state of its open vault says RBAC is on', async () => {
    const p = await project()
    const added = await p.run(['user', 'add', '--name', 'admin', '--role', 'admin'])
    expect(added.code, added.stderr).toBe(0)
    const state = openSqliteGateState({ dataDir: p.dataDir, vaultName: 'default', masterKey: () => p.key })
    try {
      // Deleted while the gate runs.
      rmSync(join(p.dataDir, 'access.db'))
      const refused = await state.adminAuthorize(undefined)
      expect(refused).toMatchObject({ ok: false, status: 403, message: expect.stringMatching(LOST) })
      stripHint(p)
      expect(await state.adminAuthorize(undefined)).toMatchObject({ ok: false, status: 403 })
    } finally {
      await state.close()
    }
  })

  it('a gate does not start as bootstrap when only the sealed state says RBAC is on', async () => {
    const p = await project()
    const vault = openVault({ dataDir: p.dataDir, name: 'default', masterKey: p.key })
    vault.recordRbacOn('2026-04-05T06:07:08.000Z')
    vault.close()
    stripHint(p)
    expect(() =>
      openSqliteGateState({ dataDir: p.dataDir, vaultName: 'default', masterKey: () => p.key }),
    ).toThrow(LOST)
  })

  it('a data directory that never had a user is still bootstrap', async () => {
    const p = await project()
    const state = openSqliteGateState({ dataDir: p.dataDir, vaultName: 'default', masterKey: () => p.key })
    try {
      expect(await state.adminAuthorize(undefined)).toEqual({ ok: true })
    } finally {
      await state.close()
    }
  })
})

describe('a dashboard whose access.db is lost while it runs', () => {
  it('refuses the session (403 users_lost) instead of acting as bootstrap, hint or not', async () => {
    const p = await project()
    const added = await p.run(['user', 'add', '--name', 'admin', '--role', 'admin', '--json'])
    expect(added.code, added.stderr).toBe(0)
    const token = parseJson<{ token: string }>(added).token
    const dash = await startDashboard(p.dir, ['--no-gate', '--gate-port', '9', '--port', '0'], {
      ...p.env,
      AEGIS_USER_TOKEN: token,
    })
    dashboards.push(dash)
    const browser = new Browser(dash.port)
    expect((await browser.login(dash.token)).status).toBe(200)
    expect((await browser.get('/api/me')).status).toBe(200)

    rmSync(join(p.dataDir, 'access.db'))
    const withHint = await browser.get('/api/me')
    expect(withHint.status).toBe(403)
    expect(withHint.json()).toMatchObject({
      error: { code: 'users_lost', message: expect.stringMatching(LOST) },
    })
    stripHint(p)
    const sealedOnly = await browser.get('/api/me')
    expect([sealedOnly.status, (sealedOnly.json() as { error: { code: string } }).error.code]).toEqual([
      403,
      'users_lost',
    ])
  })
})
