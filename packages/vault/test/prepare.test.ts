import * as crypto from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { openVault, prepareVault } from '../src/index.js'
import { forgetVaultKeys } from '../src/keycache.js'
import { expectVaultError, MASTER_KEY, newVault, sampleCredential, tempDataDir, track } from './helpers.js'

// Counts the derivations: `prepareVault` must use the thread pool (`pbkdf2`), and the `openVault`
// after it must not derive again on the event loop (`pbkdf2Sync`).
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>()
  return { ...original, pbkdf2: vi.fn(original.pbkdf2), pbkdf2Sync: vi.fn(original.pbkdf2Sync) }
})
const pbkdf2 = vi.mocked(crypto.pbkdf2)
const pbkdf2Sync = vi.mocked(crypto.pbkdf2Sync)

/** A vault holding one credential, with no key left in this process's cache. */
function storedVault(): string {
  const dataDir = tempDataDir()
  const v = newVault(dataDir)
  v.add(sampleCredential())
  v.close()
  forgetVaultKeys()
  pbkdf2.mockClear()
  pbkdf2Sync.mockClear()
  return dataDir
}

afterEach(() => forgetVaultKeys())

describe('prepareVault', () => {
  it('derives the key off the event loop, so openVault then opens without deriving', async () => {
    const dataDir = storedVault()
    await prepareVault({ dataDir, name: 'default', masterKey: MASTER_KEY })
    expect(pbkdf2).toHaveBeenCalledTimes(1)
    const v = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(pbkdf2Sync).not.toHaveBeenCalled()
    // The prepared key is the vault's key: the secret decrypts.
    expect(v.get('slack-bot')?.secret.reveal()).toBe('xoxb-super-secret-token-4242')
  })

  it('shares one derivation between calls made while it runs', async () => {
    const dataDir = storedVault()
    const opts = { dataDir, name: 'default', masterKey: MASTER_KEY }
    await Promise.all([prepareVault(opts), prepareVault(opts), prepareVault(opts)])
    await prepareVault(opts)
    expect(pbkdf2).toHaveBeenCalledTimes(1)
  })

  it('a wrong key prepared changes nothing: the right key still opens, the wrong one is still refused', async () => {
    const dataDir = storedVault()
    await prepareVault({ dataDir, name: 'default', masterKey: 'not-the-master-key-at-all' })
    expectVaultError(
      () => openVault({ dataDir, name: 'default', masterKey: 'not-the-master-key-at-all' }),
      'invalid_master_key',
    )
    const v = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(v.get('slack-bot')?.secret.reveal()).toBe('xoxb-super-secret-token-4242')
    expect(pbkdf2Sync).toHaveBeenCalledTimes(1)
  })

  it('resolves without deriving for what openVault reports: an unknown vault, no data dir, a corrupt registry', async () => {
    const dataDir = storedVault()
    await expect(prepareVault({ dataDir, name: 'other', masterKey: MASTER_KEY })).resolves.toBeUndefined()
    await expect(
      prepareVault({ dataDir: join(dataDir, 'missing'), name: 'default', masterKey: MASTER_KEY }),
    ).resolves.toBeUndefined()
    writeFileSync(join(dataDir, 'vaults.json'), '{ not json')
    await expect(prepareVault({ dataDir, name: 'default', masterKey: MASTER_KEY })).resolves.toBeUndefined()
    expect(pbkdf2).not.toHaveBeenCalled()
    expectVaultError(() => openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }), 'corrupt')
  })

  it('never rejects on malformed input', async () => {
    const dataDir = storedVault()
    await expect(prepareVault({ dataDir, name: 'default', masterKey: '' })).resolves.toBeUndefined()
    await expect(
      prepareVault({ dataDir, name: 'default', masterKey: 42 as unknown as string }),
    ).resolves.toBeUndefined()
  })

  it('a key whose derivation ends after forgetVaultKeys (sealing) is not kept', async () => {
    const dataDir = storedVault()
    const preparing = prepareVault({ dataDir, name: 'default', masterKey: MASTER_KEY })
    forgetVaultKeys()
    await preparing
    track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(pbkdf2Sync).toHaveBeenCalledTimes(1)
  })
})
