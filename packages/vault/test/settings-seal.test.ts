import { copyFileSync, cpSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openVault } from '../src/index.js'
import { expectVaultError, MASTER_KEY, newVault, sampleCredential, tempDataDir, track } from './helpers.js'

// Every setting of a credential row is sealed (HMAC under a subkey of the vault key): an edit made
// with SQLite behind the vault's back — the way an agent with write access to the data directory
// but no master key would make it — is refused by name, with no secret in the words.

const SECRET = 'xoxb-super-secret-token-4242'
const SEAL_MISMATCH = /^Credential "slack-bot" has settings that do not match their seal/

function edit(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file)
  try {
    db.prepare(sql).run(...params)
  } finally {
    db.close()
  }
}

function meta(file: string, key: string): string | undefined {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)
      ?.value
  } finally {
    db.close()
  }
}

const EDITS: ReadonlyArray<readonly [string, string]> = [
  ['the domains', `UPDATE credentials SET domains = '["evil.example"]'`],
  ['the header', `UPDATE credentials SET auth_type = 'header', header_name = 'x-leak'`],
  ['the query parameter', `UPDATE credentials SET auth_type = 'query', query_param = 'leak'`],
  ['the scopes', `UPDATE credentials SET scopes = '["read"]'`],
  ['the expiry', `UPDATE credentials SET expires_at = '2999-01-01T00:00:00.000Z'`],
  ['the rate limit', `UPDATE credentials SET rate_limit = NULL`],
  ['the body inspection', `UPDATE credentials SET body_inspection = 'off'`],
  ['the service', `UPDATE credentials SET service = 'github'`],
  ['the seal (NULL)', 'UPDATE credentials SET seal = NULL'],
  ['the seal (random bytes)', 'UPDATE credentials SET seal = randomblob(32)'],
  ['a value type (text to a number)', 'UPDATE credentials SET rate_limit = 100'],
]

describe('a credential row edited outside the vault', () => {
  it.each(EDITS)('%s: get, list, loadAll and loadCredentials refuse it by name', (_label, sql) => {
    const v = newVault()
    v.add(sampleCredential({ rateLimit: '5/min' }))
    v.add(sampleCredential({ name: 'other', service: 'other', secret: 'other-secret-value-99' }))
    edit(v.file, `${sql} WHERE name = 'slack-bot'`)
    // The set of rows accepted as it is now (vault reseal): the row's own seal still fails.
    v.reseal()

    for (const call of [() => v.get('slack-bot'), () => v.list(), () => v.loadAll()]) {
      const err = expectVaultError(call, 'corrupt', SEAL_MISMATCH)
      expect(err.message).not.toContain(SECRET)
    }
    const load = v.loadCredentials()
    expect(load.credentials.map((c) => c.name)).toEqual(['other'])
    expect(load.unavailable).toEqual([
      expect.objectContaining({
        name: 'slack-bot',
        reason: expect.stringMatching(/^has settings that do not match their seal/),
      }),
    ])
    // The secret still decrypts, so the gate can go on redacting it; it is never served.
    expect(load.unavailable[0]?.secret?.reveal()).toBe(SECRET)
  })

  it('a renamed row is refused under its new name', () => {
    const v = newVault()
    v.add(sampleCredential())
    edit(v.file, "UPDATE credentials SET name = 'renamed'")
    expectVaultError(
      () => v.get('renamed'),
      'corrupt',
      /^Credential "renamed" has settings that do not match their seal/,
    )
  })

  it('update cannot launder an edit: it is refused and the row stays refused', () => {
    const v = newVault()
    v.add(sampleCredential())
    edit(v.file, `UPDATE credentials SET domains = '["evil.example"]'`)
    expectVaultError(() => v.update('slack-bot', { rateLimit: '1/min' }), 'corrupt', SEAL_MISMATCH)
    expectVaultError(() => v.get('slack-bot'), 'corrupt', SEAL_MISMATCH)
  })

  it('rotate does not seal an edit either (the seal does not cover the secret, so it stays wrong)', () => {
    const v = newVault()
    v.add(sampleCredential())
    edit(v.file, `UPDATE credentials SET domains = '["evil.example"]'`)
    v.rotate('slack-bot', 'a-new-secret-value-777')
    expectVaultError(() => v.get('slack-bot'), 'corrupt', SEAL_MISMATCH)
  })

  it('remove and add again repairs it', () => {
    const v = newVault()
    v.add(sampleCredential())
    edit(v.file, `UPDATE credentials SET domains = '["evil.example"]'`)
    v.remove('slack-bot')
    v.add(sampleCredential())
    expect(v.get('slack-bot')?.domains).toEqual(['slack.com', '*.slack.com'])
  })

  it('a whole row copied from another vault (same key and salt) fails its seal', () => {
    const dataDir = tempDataDir()
    const dev = newVault(dataDir, 'dev')
    const prod = newVault(dataDir, 'prod')
    dev.add(sampleCredential({ domains: ['evil.example'] }))
    prod.add(sampleCredential())
    const db = new Database(prod.file)
    db.exec(`ATTACH DATABASE '${dev.file}' AS dev`)
    db.exec(
      'UPDATE credentials SET domains = (SELECT domains FROM dev.credentials), seal = (SELECT seal FROM dev.credentials)',
    )
    db.close()
    // The set of rows accepted as it is now (vault reseal): the row's own seal still fails.
    prod.reseal()
    expectVaultError(() => prod.get('slack-bot'), 'corrupt', SEAL_MISMATCH)
  })

  it('updates, rotations and re-opens keep a healthy row served', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    v.update('slack-bot', { domains: ['api.slack.com'], rateLimit: '9/min', bodyInspection: 'warn' })
    v.rotate('slack-bot', 'rotated-secret-value-555')
    v.close()
    const again = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(again.get('slack-bot')).toMatchObject({ domains: ['api.slack.com'], rateLimit: '9/min' })
    expect(again.get('slack-bot')?.secret.reveal()).toBe('rotated-secret-value-555')
  })
})

describe('the vault format cannot be stripped', () => {
  it('a new vault is format 5', () => {
    const v = newVault()
    expect(meta(v.file, 'format_version')).toBe('5')
  })

  it('a format-2 vault marked as format 1 (so it would be re-sealed as edited) is refused on open', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    v.close()
    const file = join(dataDir, 'vaults/default.db')
    edit(file, `UPDATE credentials SET domains = '["evil.example"]', seal = NULL`)
    edit(file, "UPDATE meta SET value = '1' WHERE key = 'format_version'")
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }),
      'corrupt',
      /^Vault "default": its stored format does not match its key check/,
    )
    // Nothing was sealed on the way: the edited row is still unsealed.
    const db = new Database(file, { readonly: true })
    expect(db.prepare('SELECT seal FROM credentials').pluck().get()).toBeNull()
    db.close()
  })

  it('a format-2 vault without its format is refused', () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    edit(join(dataDir, 'vaults/default.db'), "DELETE FROM meta WHERE key = 'format_version'")
    expectVaultError(() => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }), 'corrupt')
  })

  it('a vault restored from a backup copy opens and serves what the copy holds', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    v.close()
    const file = join(dataDir, 'vaults/default.db')
    const backup = join(dataDir, 'backup.db')
    copyFileSync(file, backup)
    const later = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    later.update('slack-bot', { domains: ['api.slack.com'] })
    later.close()
    copyFileSync(backup, file)
    const restored = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(restored.get('slack-bot')?.domains).toEqual(['slack.com', '*.slack.com'])
  })
})

describe('a format-1 vault (made before settings were sealed)', () => {
  const FIXTURE = fileURLToPath(new URL('./fixtures/vault-0000', import.meta.url))

  function legacyDataDir(): string {
    const dataDir = tempDataDir()
    cpSync(FIXTURE, dataDir, { recursive: true })
    return dataDir
  }

  it('is sealed when opened with its key, then refuses edits like any other', () => {
    const dataDir = legacyDataDir()
    const file = join(dataDir, 'vaults/default.db')
    expect(meta(file, 'format_version')).toBe('1')
    const v = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(meta(file, 'format_version')).toBe('5')
    expect(v.loadCredentials().unavailable).toEqual([])
    expect(v.get('slack-bot')?.secret.reveal()).toBe('xoxb-fixture-secret-0000')

    // Migrated: an unsealed row (the old format) is refused from now on, in this process and after.
    edit(file, "UPDATE credentials SET seal = NULL WHERE name = 'gh'")
    expectVaultError(() => v.get('gh'), 'corrupt', /its credentials table does not match/)
    // Accepting the set as it is now does not seal the row.
    v.reseal()
    expectVaultError(
      () => v.get('gh'),
      'corrupt',
      /^Credential "gh" has settings that do not match their seal/,
    )
    v.close()
    const again = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(again.loadCredentials().unavailable.map((u) => u.name)).toEqual(['gh'])
  })

  it('a wrong key seals nothing', () => {
    const dataDir = legacyDataDir()
    const file = join(dataDir, 'vaults/default.db')
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: 'wrong-key' }),
      'invalid_master_key',
    )
    expect(meta(file, 'format_version')).toBe('1')
  })
})
