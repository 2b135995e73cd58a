import { describe, expect, it } from 'vitest'
import { SealableVault } from '../src/index.js'
import { MASTER_KEY, newVault, tempDataDir } from './helpers.js'

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

describe('sealSecret / openSecret (webhook signing secrets)', () => {
  it('round-trips, and the envelope never holds the plaintext', () => {
    const v = newVault()
    const envelope = v.sealSecret('webhook:ep_1', SECRET)
    expect(envelope.includes(Buffer.from(SECRET))).toBe(false)
    expect(v.openSecret('webhook:ep_1', envelope)).toBe(SECRET)
  })

  it('is bound to its purpose and its vault', () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    const envelope = v.sealSecret('webhook:ep_1', SECRET)
    expect(() => v.openSecret('webhook:ep_2', envelope)).toThrow(/failed authentication/)
    const other = newVault(dataDir, 'other')
    expect(() => other.openSecret('webhook:ep_1', envelope)).toThrow(/failed authentication/)
  })

  it('a sealable vault opens only while unsealed', () => {
    const dataDir = tempDataDir()
    const envelope = newVault(dataDir).sealSecret('webhook:ep_1', SECRET)
    const source = new SealableVault({ dataDir, name: 'default' })
    expect(() => source.openSecret('webhook:ep_1', envelope)).toThrow(/sealed/)
    source.unsealWith(Buffer.from(MASTER_KEY))
    expect(source.openSecret('webhook:ep_1', envelope)).toBe(SECRET)
    expect(source.openSecret('webhook:ep_2', source.sealSecret('webhook:ep_2', SECRET))).toBe(SECRET)
    source.seal()
    expect(() => source.sealSecret('webhook:ep_2', SECRET)).toThrow(/sealed/)
    source.close()
  })
})
