import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createVault, openVault } from '../src/index.js'
import {
  expectVaultError,
  MASTER_KEY,
  newVault,
  sampleCredential,
  TEST_SALT,
  tempDataDir,
  track,
} from './helpers.js'

function rawDb(file: string) {
  return new Database(file)
}

describe('ciphertext bound to its row and vault', () => {
  it('a ciphertext copied onto another row does not decrypt', () => {
    const v = newVault()
    v.add(sampleCredential({ name: 'a', service: 'a', secret: 'secret-of-a' }))
    v.add(sampleCredential({ name: 'b', service: 'b', secret: 'secret-of-b' }))
    const db = rawDb(v.file)
    db.prepare(
      "UPDATE credentials SET secret = (SELECT secret FROM credentials WHERE name = 'a') WHERE name = 'b'",
    ).run()
    db.close()
    // An envelope is part of the set of rows: the whole credentials table is refused first.
    expectVaultError(() => v.get('a'), 'corrupt', /its credentials table does not match/)
    v.reseal()
    expect(v.get('a')?.secret.reveal()).toBe('secret-of-a')
    const err = expectVaultError(() => v.get('b'), 'corrupt', /Credential "b" cannot be decrypted/)
    expect(err.message).not.toContain('secret-of')
    expectVaultError(() => v.loadAll(), 'corrupt', /Credential "b"/)
  })

  it('swapping ids between rows does not decrypt either', () => {
    const v = newVault()
    v.add(sampleCredential({ name: 'a', service: 'a', secret: 'secret-of-a' }))
    v.add(sampleCredential({ name: 'b', service: 'b', secret: 'secret-of-b' }))
    const idA = v.get('a')?.id
    const idB = v.get('b')?.id
    const db = rawDb(v.file)
    const setId = db.prepare('UPDATE credentials SET id = ? WHERE name = ?')
    db.transaction(() => {
      setId.run('tmp', 'a')
      setId.run(idA, 'b')
      setId.run(idB, 'a')
    })()
    db.close()
    // Each row now carries the other's id; neither decrypts.
    expectVaultError(() => v.get('a'), 'corrupt')
    expectVaultError(() => v.get('b'), 'corrupt')
  })

  it('a tampered ciphertext byte in the database is detected', () => {
    const v = newVault()
    v.add(sampleCredential())
    const db = rawDb(v.file)
    const row = db.prepare('SELECT secret FROM credentials').get() as { secret: Buffer }
    for (const index of [5, 20, row.secret.length - 1]) {
      const bad = Buffer.from(row.secret)
      bad[index] = (bad[index] ?? 0) ^ 0x80
      db.prepare('UPDATE credentials SET secret = ?').run(bad)
      expectVaultError(() => v.get('slack-bot'), 'corrupt', /its credentials table does not match/)
      // Accepted as it is (vault reseal), the row itself still does not decrypt.
      v.reseal()
      expectVaultError(() => v.get('slack-bot'), 'corrupt', /cannot be decrypted/)
    }
    db.close()
  })

  it('a ciphertext copied into another vault (same key, same salt) does not decrypt', () => {
    const dataDir = tempDataDir()
    const dev = newVault(dataDir, 'dev')
    const prod = newVault(dataDir, 'prod')
    dev.add(sampleCredential({ secret: 'dev-secret' }))
    prod.add(sampleCredential({ secret: 'prod-secret' }))
    // Copy the whole row (id included) from dev into prod.
    const db = rawDb(prod.file)
    db.exec(`ATTACH DATABASE '${dev.file}' AS dev`)
    db.exec('DELETE FROM credentials')
    db.exec('INSERT INTO credentials SELECT * FROM dev.credentials')
    db.close()
    // The set of rows accepted as it is now (vault reseal): the row still does not decrypt.
    prod.reseal()
    expect(dev.get('slack-bot')?.secret.reveal()).toBe('dev-secret')
    expectVaultError(() => prod.get('slack-bot'), 'corrupt', /cannot be decrypted/)
  })

  it('a ciphertext copied into a vault with another salt does not decrypt', () => {
    const dataDir = tempDataDir()
    const a = newVault(dataDir, 'alpha')
    const b = track(createVault({ dataDir, name: 'beta', masterKey: MASTER_KEY, salt: Buffer.alloc(32, 9) }))
    const id = a.add(sampleCredential({ secret: 'alpha-secret' })).id
    b.add(sampleCredential({ secret: 'beta-secret' }))
    const src = rawDb(a.file)
    const row = src.prepare('SELECT secret FROM credentials').get() as { secret: Buffer }
    src.close()
    const db = rawDb(b.file)
    db.prepare('UPDATE credentials SET secret = ?, id = ?').run(row.secret, id)
    db.close()
    expectVaultError(() => b.get('slack-bot'), 'corrupt')
    expect(TEST_SALT.equals(Buffer.alloc(32, 9))).toBe(false)
  })

  it('the key-check value of one vault does not validate a key for another', () => {
    const dataDir = tempDataDir()
    newVault(dataDir, 'alpha').close()
    newVault(dataDir, 'beta', 'another-master-key').close()
    const a = rawDb(`${dataDir}/vaults/alpha.db`)
    const check = (a.prepare("SELECT value FROM meta WHERE key = 'key_check'").get() as { value: string })
      .value
    a.close()
    const b = rawDb(`${dataDir}/vaults/beta.db`)
    b.prepare("UPDATE meta SET value = ? WHERE key = 'key_check'").run(check)
    b.close()
    // alpha's key-check is sealed under MASTER_KEY but bound to "alpha": beta refuses it.
    expectVaultError(() => openVault({ dataDir, name: 'beta', masterKey: MASTER_KEY }), 'invalid_master_key')
  })

  it('rows with edited stored settings are refused, not passed on', () => {
    const v = newVault()
    v.add(sampleCredential())
    const db = rawDb(v.file)
    db.prepare('UPDATE credentials SET scopes = \'["admin"]\'').run()
    db.close()
    expectVaultError(
      () => v.list(),
      'corrupt',
      /^Credential "slack-bot" has settings that do not match their seal/,
    )
  })
})
