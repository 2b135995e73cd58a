import { describe, expect, it } from 'vitest'
import { destroyVault, openVault } from '../src/index.js'
import { MASTER_KEY, newVault, sampleCredential, snapshotFiles, tempDataDir, track } from './helpers.js'

/** Every form in which a secret could leak to disk. */
function encodings(secret: string): string[] {
  const raw = Buffer.from(secret, 'utf8')
  return [
    secret,
    raw.toString('base64'),
    raw.toString('base64url'),
    raw.toString('hex'),
    raw.toString('hex').toUpperCase(),
    Buffer.from(secret, 'utf16le').toString('latin1'),
  ]
}

function assertNoLeak(dataDir: string, needles: string[]) {
  const files = snapshotFiles(dataDir)
  expect(files.size).toBeGreaterThan(1)
  for (const [name, bytes] of files) {
    for (const needle of needles) {
      expect(bytes.includes(Buffer.from(needle, 'latin1')), `${name} contains ${needle.slice(0, 8)}…`).toBe(
        false,
      )
      expect(bytes.includes(Buffer.from(needle, 'utf8')), `${name} contains ${needle.slice(0, 8)}…`).toBe(
        false,
      )
    }
  }
}

describe('at rest', () => {
  it('no file under the data dir holds a secret or the master key, in any common encoding', () => {
    const dataDir = tempDataDir()
    const secrets = [
      'xoxb-AT-REST-CANARY-81f3a9c2',
      'ghp_AtRestCanarySecondValue77',
      'rotated-CANARY-value-0042',
    ]
    const v = newVault(dataDir)
    v.add(sampleCredential({ secret: secrets[0] }))
    v.add(
      sampleCredential({ name: 'gh', service: 'github', secret: secrets[1], domains: ['api.github.com'] }),
    )
    v.rotate('gh', secrets[2] as string)
    v.update('slack-bot', { scopes: ['read'] })
    v.add(sampleCredential({ name: 'tmp', service: 'tmp', secret: 'removed-CANARY-secret-55' }))
    v.remove('tmp')
    const needles = [...secrets, 'removed-CANARY-secret-55', MASTER_KEY].flatMap(encodings)

    // While open (WAL and shm present) …
    assertNoLeak(dataDir, needles)
    // … after a checkpoint on close …
    v.close()
    assertNoLeak(dataDir, needles)
    // … and after another open/read/close cycle.
    const again = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    expect(again.get('slack-bot')?.secret.reveal()).toBe(secrets[0])
    again.close()
    assertNoLeak(dataDir, needles)
  })

  it('destroying a vault leaves no database files', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir, 'gone')
    v.add(sampleCredential())
    v.close()
    destroyVault(dataDir, 'gone')
    expect([...snapshotFiles(dataDir).keys()]).toEqual(['vaults.json'])
  })
})
