import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createVault, destroyVault, listVaults, openVault } from '../src/index.js'
import {
  expectVaultError,
  MASTER_KEY,
  mode,
  newVault,
  sampleCredential,
  snapshotFiles,
  TEST_SALT,
  tempDataDir,
  track,
} from './helpers.js'

describe('createVault / openVault', () => {
  it('creates the database and registry, and reopens with the same key', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir, 'default')
    expect(v.name).toBe('default')
    expect(v.file).toBe(join(dataDir, 'vaults', 'default.db'))
    v.add(sampleCredential())
    v.close()

    const registry = JSON.parse(readFileSync(join(dataDir, 'vaults.json'), 'utf8'))
    expect(registry).toEqual({
      version: 1,
      vaults: [
        {
          name: 'default',
          file: 'vaults/default.db',
          salt: TEST_SALT.toString('hex'),
          createdAt: expect.any(String),
        },
      ],
    })

    const again = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(again.get('slack-bot')?.secret.reveal()).toBe('xoxb-super-secret-token-4242')
  })

  it("opens with the configured salt when it is the vault's own, and refuses another before deriving a key", () => {
    const dataDir = tempDataDir()
    newVault(dataDir, 'default').close()
    const same = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY, salt: TEST_SALT }))
    expect(same.name).toBe('default')
    const other = Buffer.alloc(32, 9)
    expect(() => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY, salt: other })).toThrow(
      expect.objectContaining({
        name: 'VaultError',
        code: 'invalid_input',
        message: expect.stringMatching(
          /^The configured salt \(AEGIS_SALT \/ vault\.salt\) is not the salt vault "default" was created with/,
        ),
      }),
    )
  })

  it('uses WAL, synchronous=NORMAL, foreign keys and a busy timeout', () => {
    const v = newVault()
    const db = new Database(v.file)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
  })

  it('generates a random 32-byte salt per vault when none is given', () => {
    const dataDir = tempDataDir()
    track(createVault({ dataDir, name: 'a', masterKey: MASTER_KEY }))
    track(createVault({ dataDir, name: 'b', masterKey: MASTER_KEY }))
    const { vaults } = JSON.parse(readFileSync(join(dataDir, 'vaults.json'), 'utf8'))
    expect(vaults[0].salt).toMatch(/^[0-9a-f]{64}$/)
    expect(vaults[1].salt).toMatch(/^[0-9a-f]{64}$/)
    expect(vaults[0].salt).not.toBe(vaults[1].salt)
  })

  it('refuses to create a vault twice, or over a stray database file', () => {
    const dataDir = tempDataDir()
    newVault(dataDir, 'default')
    expectVaultError(() => newVault(dataDir, 'default'), 'exists', 'Vault "default" already exists')
    writeFileSync(join(dataDir, 'vaults', 'orphan.db'), 'x')
    expectVaultError(() => newVault(dataDir, 'orphan'), 'exists', /orphan\.db is present/)
    expect(readFileSync(join(dataDir, 'vaults', 'orphan.db'), 'utf8')).toBe('x')
  })

  it('rejects invalid vault names, master keys and salts', () => {
    const dataDir = tempDataDir()
    for (const name of ['', 'Prod', '-x', 'a/b', '../x', 'a'.repeat(64), 'a.b']) {
      expectVaultError(
        () => createVault({ dataDir, name, masterKey: MASTER_KEY }),
        'invalid_input',
        /vault name/,
      )
    }
    expectVaultError(() => createVault({ dataDir, name: 'x', masterKey: '' }), 'invalid_input', /master key/)
    expectVaultError(
      () => createVault({ dataDir, name: 'x', masterKey: 'k', salt: Buffer.alloc(8) }),
      'invalid_input',
      /salt/,
    )
    expect(existsSync(dataDir)).toBe(false)
  })

  it('reports a missing vault as no_vault', () => {
    const dataDir = tempDataDir()
    expectVaultError(
      () => openVault({ dataDir, name: 'nope', masterKey: MASTER_KEY }),
      'no_vault',
      /No vault named "nope"/,
    )
  })
})

describe('wrong master key', () => {
  it('is detected in an empty vault, and changes nothing on disk', () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    const before = snapshotFiles(dataDir)
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: 'not-the-key' }),
      'invalid_master_key',
      'Invalid master key',
    )
    expect(snapshotFiles(dataDir)).toEqual(before)
  })

  it('is detected in a populated vault while another connection has it open', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    // The -shm file is SQLite's shared-memory wal-index: any reader of a database that is open
    // elsewhere updates it. Everything that holds data must stay identical.
    const withoutShm = () => {
      const files = snapshotFiles(dataDir)
      expect(files.has('vaults/default.db-shm')).toBe(true)
      files.delete('vaults/default.db-shm')
      return files
    }
    const before = withoutShm()
    expect(before.has('vaults/default.db-wal')).toBe(true)
    const err = expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: `${MASTER_KEY}x` }),
      'invalid_master_key',
      'Invalid master key',
    )
    expect(err.message).not.toContain(MASTER_KEY)
    expect(withoutShm()).toEqual(before)
  })
})

describe('corruption', () => {
  it('a corrupt vaults.json names the file', () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    const registry = join(dataDir, 'vaults.json')
    writeFileSync(registry, '{"version": 1, "vaults": [')
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }),
      'corrupt',
      `${registry} is corrupt: not valid JSON`,
    )
    expectVaultError(() => listVaults(dataDir), 'corrupt', /vaults\.json is corrupt/)
    writeFileSync(registry, '{"version": 2, "vaults": []}')
    expectVaultError(() => listVaults(dataDir), 'corrupt', /unsupported version 2/)
    writeFileSync(
      registry,
      '{"version": 1, "vaults": [{"name": "x", "file": "../../etc/passwd", "salt": "00", "createdAt": "2026-01-01"}]}',
    )
    expectVaultError(() => listVaults(dataDir), 'corrupt', /vaults\[0\]\.file/)
  })

  it('a database file that is not a database is reported as corrupted', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.close()
    writeFileSync(v.file, Buffer.alloc(8192, 0x41))
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }),
      'corrupt',
      `Database file is corrupted: ${v.file} (restore it from a backup, or move the data directory aside and run aegis init for a new, empty one)`,
    )
  })

  it('a vault a newer release wrote (a later format) says so and is left as it is; a format that is no number is damage', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.close()
    const setFormat = (format: string) => {
      const db = new Database(v.file)
      try {
        db.prepare("UPDATE meta SET value = ? WHERE key = 'format_version'").run(format)
      } finally {
        db.close()
      }
    }
    setFormat('6')
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }),
      'corrupt',
      `Vault "default" (${v.file}) was written by a newer release of Aegis (vault format 6; this one reads up to 5): run that release or a later one; nothing was changed`,
    )
    const db = new Database(v.file, { readonly: true })
    expect(db.prepare("SELECT value FROM meta WHERE key = 'format_version'").pluck().get()).toBe('6')
    db.close()
    for (const damaged of ['0', '5.5', 'x', '', '99999999']) {
      setFormat(damaged)
      expectVaultError(
        () => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }),
        'corrupt',
        /^Database file is corrupted/,
      )
    }
    setFormat('5')
    track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
  })

  it('an empty SQLite file without the vault tables is reported as corrupted', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.close()
    writeFileSync(v.file, '')
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }),
      'corrupt',
      `Database file is corrupted: ${v.file} (restore it from a backup, or move the data directory aside and run aegis init for a new, empty one)`,
    )
  })

  it('a database copied over another vault is refused, not decrypted', () => {
    const dataDir = tempDataDir()
    const a = newVault(dataDir, 'alpha')
    const b = newVault(dataDir, 'beta')
    a.close()
    b.close()
    writeFileSync(b.file, readFileSync(a.file))
    expectVaultError(
      () => openVault({ dataDir, name: 'beta', masterKey: MASTER_KEY }),
      'corrupt',
      /belongs to another vault/,
    )
  })

  it('a missing database file is reported', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.close()
    rmSync(v.file)
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }),
      'corrupt',
      /missing/,
    )
  })
})

describe('listVaults / destroyVault', () => {
  it('lists vaults with credential counts, and destroys one', () => {
    const dataDir = tempDataDir()
    expect(listVaults(dataDir)).toEqual([])
    const a = newVault(dataDir, 'dev')
    a.add(sampleCredential())
    a.add(sampleCredential({ name: 'gh', service: 'github', domains: ['api.github.com'] }))
    newVault(dataDir, 'prod')
    expect(listVaults(dataDir)).toEqual([
      { name: 'dev', file: join(dataDir, 'vaults', 'dev.db'), createdAt: expect.any(String), credentials: 2 },
      {
        name: 'prod',
        file: join(dataDir, 'vaults', 'prod.db'),
        createdAt: expect.any(String),
        credentials: 0,
      },
    ])
    a.close()
    destroyVault(dataDir, 'dev')
    expect(listVaults(dataDir).map((v) => v.name)).toEqual(['prod'])
    for (const suffix of ['', '-wal', '-shm'])
      expect(existsSync(join(dataDir, 'vaults', `dev.db${suffix}`))).toBe(false)
    expectVaultError(() => openVault({ dataDir, name: 'dev', masterKey: MASTER_KEY }), 'no_vault')
    expectVaultError(() => destroyVault(dataDir, 'dev'), 'no_vault')
    // The name can be reused, and the new vault starts empty.
    expect(newVault(dataDir, 'dev').list()).toEqual([])
  })
})

describe('file modes', () => {
  it('creates the data dir and vaults dir 0700, registry and database files 0600', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    expect(mode(dataDir)).toBe(0o700)
    expect(mode(join(dataDir, 'vaults'))).toBe(0o700)
    expect(mode(join(dataDir, 'vaults.json'))).toBe(0o600)
    expect(mode(v.file)).toBe(0o600)
    for (const side of ['-wal', '-shm']) {
      if (existsSync(v.file + side)) expect(mode(v.file + side)).toBe(0o600)
    }
    const reopened = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(existsSync(`${reopened.file}-wal`)).toBe(true)
    expect(mode(`${reopened.file}-wal`)).toBe(0o600)
    expect(mode(`${reopened.file}-shm`)).toBe(0o600)
  })

  it('keeps 0600 under a permissive umask', () => {
    const previous = process.umask(0)
    try {
      const dataDir = tempDataDir()
      const v = newVault(dataDir)
      v.add(sampleCredential())
      expect(mode(dataDir)).toBe(0o700)
      expect(mode(join(dataDir, 'vaults.json'))).toBe(0o600)
      expect(mode(v.file)).toBe(0o600)
    } finally {
      process.umask(previous)
    }
  })
})

describe('a vault destroyed under an open connection (a running gate)', () => {
  it('stops serving it: every credential unavailable for that reason, no agents', () => {
    const dataDir = tempDataDir()
    const gateSide = track(newVault(dataDir, 'staging'))
    gateSide.add(sampleCredential({ name: 'old', service: 'old' }))
    gateSide.addAgent({ name: 'bot' })
    const before = gateSide.changeToken()
    expect(gateSide.loadCredentials().credentials.map((c) => c.name)).toEqual(['old'])

    destroyVault(dataDir, 'staging')
    // The connection still reads the deleted file; the token must move so the gate reloads.
    const afterDestroy = gateSide.changeToken()
    expect(afterDestroy).not.toBe(before)
    const destroyed = gateSide.loadCredentials()
    expect(destroyed.credentials).toEqual([])
    expect(destroyed.unavailable.map((u) => [u.name, u.reason])).toEqual([
      ['old', expect.stringContaining('was deleted or replaced since this process opened it')],
    ])
    expect(destroyed.unavailable[0]?.reason).not.toMatch(/modified or copied/)
    expect(gateSide.loadAgents()).toEqual([])

    // Re-created under the same name: still not served by the old connection (another key).
    const again = track(createVault({ dataDir, name: 'staging', masterKey: MASTER_KEY }))
    again.add(sampleCredential({ name: 'new', service: 'new' }))
    expect(gateSide.changeToken()).toBe(afterDestroy)
    expect(gateSide.loadCredentials().credentials).toEqual([])
  })
})
