import { describe, expect, it } from 'vitest'
import { hashAgentToken } from '../src/index.js'
import { newVault, sampleCredential, snapshotFiles, tempDataDir } from './helpers.js'

/** The forms a token could take on disk: whole, its random part, and the raw random bytes. */
function tokenForms(token: string): Buffer[] {
  const random = token.slice('aegis_'.length)
  const raw = Buffer.from(random, 'base64url')
  return [
    Buffer.from(token),
    Buffer.from(token.slice(12)), // everything past the stored display prefix
    Buffer.from(random.toUpperCase()),
    Buffer.from(token, 'utf16le'),
    raw,
    Buffer.from(raw.toString('hex')),
    Buffer.from(raw.toString('base64')),
  ]
}

function filesContaining(dataDir: string, needle: Buffer): string[] {
  return [...snapshotFiles(dataDir)].filter(([, bytes]) => bytes.includes(needle)).map(([name]) => name)
}

describe('agent tokens at rest', () => {
  it('only the SHA-256 of each token reaches the disk (db, WAL, registry), open or closed', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    const first = v.addAgent({ name: 'bot' })
    v.grant('bot', 'slack-bot')
    const second = v.regenerateAgentToken('bot')
    const other = v.addAgent({ name: 'other', rateLimit: '1/sec' })
    const tokens = [first.token, second.token, other.token]

    const check = () => {
      for (const token of tokens) {
        for (const form of tokenForms(token)) expect(filesContaining(dataDir, form)).toEqual([])
      }
      // The scan itself works: the current hashes are found.
      expect(filesContaining(dataDir, hashAgentToken(second.token)).length).toBeGreaterThan(0)
      expect(filesContaining(dataDir, hashAgentToken(other.token)).length).toBeGreaterThan(0)
    }
    check() // while open: rows may still live in the WAL only
    v.close()
    check()
  })
})
