import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openVault, rbacHint, sealedRbacHint } from '../src/index.js'
import { expectVaultError, MASTER_KEY, newVault, snapshotFiles, tempDataDir, track } from './helpers.js'

// "RBAC is on" kept in the vault: sealed in its state (only the key writes it) and as a plaintext
// hint. Reading either leaves the data directory as it was.

describe('the RBAC record of a vault', () => {
  it('is null in a new vault; recorded once, the first date stays', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    expect(v.rbacSince()).toBeNull()
    expect(rbacHint(dataDir)).toBeNull()
    v.recordRbacOn('2026-01-01T00:00:00.000Z')
    v.recordRbacOn('2027-01-01T00:00:00.000Z')
    expect(v.rbacSince()).toBe('2026-01-01T00:00:00.000Z')
    v.close()
    expect(rbacHint(dataDir)).toBe('2026-01-01T00:00:00.000Z')
    expect(sealedRbacHint({ dataDir, name: 'default', masterKey: MASTER_KEY })).toBe(
      '2026-01-01T00:00:00.000Z',
    )
    expect(sealedRbacHint({ dataDir, name: 'default', masterKey: 'another-key' })).toBeNull()
  })

  it('survives stripping the hint; the sealed state cannot be reset by copying it from another vault', () => {
    const dataDir = tempDataDir()
    const on = newVault(dataDir, 'on')
    on.recordRbacOn('2026-01-01T00:00:00.000Z')
    on.close()
    newVault(dataDir, 'fresh').close()
    const file = join(dataDir, 'vaults/on.db')
    const db = new Database(file)
    db.prepare("DELETE FROM meta WHERE key = 'rbac_since'").run()
    const fresh = new Database(join(dataDir, 'vaults/fresh.db'), { readonly: true })
    const freshCheck = fresh.prepare("SELECT value FROM meta WHERE key = 'key_check'").pluck().get()
    fresh.close()
    db.close()
    expect(rbacHint(dataDir)).toBeNull()
    expect(sealedRbacHint({ dataDir, name: 'on', masterKey: MASTER_KEY })).toBe('2026-01-01T00:00:00.000Z')
    // The other vault's state (RBAC never on) is bound to its name: it does not open here.
    const edit = new Database(file)
    edit.prepare("UPDATE meta SET value = ? WHERE key = 'key_check'").run(freshCheck)
    edit.close()
    expectVaultError(() => openVault({ dataDir, name: 'on', masterKey: MASTER_KEY }), 'invalid_master_key')
  })

  it('is read without leaving a file behind', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.recordRbacOn('2026-01-01T00:00:00.000Z')
    v.close()
    const before = snapshotFiles(dataDir)
    expect(rbacHint(dataDir)).not.toBeNull()
    expect(sealedRbacHint({ dataDir, name: 'default', masterKey: MASTER_KEY })).not.toBeNull()
    expect(snapshotFiles(dataDir)).toEqual(before)
  })

  it('an open vault (commits still in its WAL) is read as it is now', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    const reader = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    v.recordRbacOn('2026-01-01T00:00:00.000Z')
    expect(rbacHint(dataDir)).toBe('2026-01-01T00:00:00.000Z')
    expect(sealedRbacHint({ dataDir, name: 'default', masterKey: MASTER_KEY })).toBe(
      '2026-01-01T00:00:00.000Z',
    )
    expect(reader.rbacSince()).toBe('2026-01-01T00:00:00.000Z')
  })
})
