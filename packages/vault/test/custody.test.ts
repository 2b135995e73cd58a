import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeShare, parseShare } from '../src/custody/envelope.js'
import {
  acceptShares,
  CustodyError,
  type CustodyErrorCode,
  type CustodyRecord,
  readUnsealedKey,
  rebuildKey,
  SealableVault,
  splitKey,
  splitParameterProblem,
  wipeUnsealedKey,
  writeCustody,
  writeUnsealedKey,
} from '../src/index.js'
import { MASTER_KEY, newVault, sampleCredential, tempDataDir } from './helpers.js'

const KEY = Buffer.from(MASTER_KEY, 'utf8')

/** One 3-of-5 split (the key check costs one PBKDF2), reused by every table row. */
const main = await splitKey(KEY, 5, 3)
const other = await splitKey(KEY, 5, 3)
const custody: CustodyRecord = main.record

function codeOf(fn: () => unknown): CustodyErrorCode | 'none' {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CustodyError)
    // Never a share, nor any share's data field, in a message.
    for (const share of [...main.shares, ...other.shares]) {
      expect((err as Error).message).not.toContain(share.split('.')[3] as string)
    }
    return (err as CustodyError).code
  }
  return 'none'
}

/** The share's holder position (x) with one y byte changed, under a valid checksum. */
function alteredSameX(share: string): string {
  const parsed = parseShare(share, 1)
  const bytes = Uint8Array.from(parsed.bytes)
  bytes[0] = (bytes[0] as number) ^ 0xff
  return encodeShare(parsed.setId, parsed.threshold, bytes)
}

/** Changes the character at `index` to another base64url character. */
function flip(share: string, index: number): string {
  const c = share[index] === 'A' ? 'B' : 'A'
  return share.slice(0, index) + c + share.slice(index + 1)
}

describe('share envelope', () => {
  it('is aegis-share-v1.<set>.<threshold>.<base64url>.<crc32>', () => {
    for (const share of main.shares) {
      expect(share).toMatch(/^aegis-share-v1\.[0-9a-f]{16}\.3\.[A-Za-z0-9_-]+\.[0-9a-f]{8}$/)
      expect(share.split('.')[1]).toBe(custody.setId)
    }
    expect(new Set(main.shares).size).toBe(5)
    expect(other.record.setId).not.toBe(custody.setId)
  })

  it('a change of any single character is a checksum error, wherever it is', () => {
    const share = main.shares[0] as string
    for (let i = 0; i < share.length; i++) {
      if (share[i] === '.') continue
      const changed = flip(share, i)
      expect(
        codeOf(() => parseShare(changed, 1)),
        `index ${i}`,
      ).toBe('checksum')
    }
  })

  it('a newer format version is named as such (once its checksum holds)', () => {
    const body = (main.shares[0] as string)
      .replace('aegis-share-v1', 'aegis-share-v2')
      .split('.')
      .slice(0, 4)
      .join('.')
    const { crc32 } = require('node:zlib') as typeof import('node:zlib')
    const v2 = `${body}.${crc32(Buffer.from(body)).toString(16).padStart(8, '0')}`
    expect(codeOf(() => parseShare(v2, 1))).toBe('unsupported_share')
  })
})

describe('acceptShares + rebuildKey', () => {
  const [s1, s2, s3, s4] = main.shares as [string, string, string, string]
  const rows: [string, string[], CustodyErrorCode | 'none', RegExp][] = [
    ['three distinct shares', [s1, s2, s3], 'none', /./],
    ['four shares (more than the threshold)', [s1, s2, s3, s4], 'none', /./],
    ['a malformed share', [s1, 'hello', s3], 'malformed_share', /^Share 2 is not an Aegis key share/],
    ['a share cut short', [s1, s2.slice(0, 40), s3], 'malformed_share', /^Share 2 /],
    ['a flipped character', [s1, s2, flip(s3, 30)], 'checksum', /^Share 3 fails its checksum/],
    ['a duplicated share', [s1, s2, s1], 'duplicate_share', /^Shares 1 and 3 are the same share/],
    [
      'shares of two splits',
      [s1, other.shares[1] as string, s3],
      'mixed_sets',
      /^Shares 1 and 2 come from two different splits/,
    ],
    [
      'shares all of another split',
      other.shares.slice(0, 3),
      'foreign_share',
      /^Share 1 is from split [0-9a-f]{16}, not from this vault's current split/,
    ],
  ]
  it.each(rows)('%s', (_why, input, code, message) => {
    const got = codeOf(() => acceptShares(input, custody))
    expect(got).toBe(code)
    if (code !== 'none') {
      try {
        acceptShares(input, custody)
      } catch (err) {
        expect((err as Error).message).toMatch(message)
      }
    }
  })

  it('rebuilds the key from any three shares, and refuses two', async () => {
    const key = await rebuildKey(acceptShares([main.shares[4] as string, s2, s4], custody), custody)
    expect(key.equals(KEY)).toBe(true)
    await expect(rebuildKey(acceptShares([s1, s2], custody), custody)).rejects.toMatchObject({
      code: 'too_few_shares',
      message: expect.stringMatching(/^2 shares given, 3 needed/),
    })
  })

  it('a key that fails the key check is refused (shares of the same set id but another key)', async () => {
    // A split of another key, relabelled with this split's set id and re-checksummed: the checksum
    // and set id pass, only the key check can tell.
    const forged = await splitKey(Buffer.from('another-key-of-the-same-length-0123456789'), 5, 3)
    const relabel = (share: string) => {
      const [p, , t, data] = share.split('.')
      const body = `${p}.${custody.setId}.${t}.${data}`
      const { crc32 } = require('node:zlib') as typeof import('node:zlib')
      return `${body}.${crc32(Buffer.from(body)).toString(16).padStart(8, '0')}`
    }
    const shares = acceptShares(forged.shares.slice(0, 3).map(relabel), custody)
    await expect(rebuildKey(shares, custody)).rejects.toMatchObject({ code: 'key_check_failed' })
  })
})

describe('split parameters', () => {
  const rows: [number, number, 'shares' | 'threshold' | null][] = [
    [5, 3, null],
    [2, 2, null],
    [255, 255, null],
    [1, 1, 'shares'],
    [256, 3, 'shares'],
    [5, 1, 'threshold'],
    [3, 5, 'threshold'],
    [5, 2.5, 'threshold'],
  ]
  it.each(rows)('%i shares, threshold %i → %s', (shares, threshold, field) => {
    expect(splitParameterProblem(shares, threshold)?.field ?? null).toBe(field)
  })
})

describe('writeCustody with the text read before', () => {
  it('writes while the file is unchanged, and refuses (changed) once another split wrote it', () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    const file = join(dataDir, 'custody.json')
    // Two splits both read "no custody.json"; the first to write wins.
    writeCustody(dataDir, main.record, null)
    const first = readFileSync(file, 'utf8')
    expect(() => writeCustody(dataDir, other.record, null)).toThrow(
      expect.objectContaining({
        code: 'changed',
        message: expect.stringMatching(/this split was not made$/),
      }),
    )
    expect(readFileSync(file, 'utf8')).toBe(first)
    // A re-split that read the current file replaces it.
    writeCustody(dataDir, other.record, first)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ setId: other.record.setId })
    expect(readdirSync(dataDir).filter((f) => f.endsWith('.lock'))).toEqual([])
  })
})

describe('unsealed.key', () => {
  it('round-trips with mode 0600, is refused when stale, and is wiped', async () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    writeCustody(dataDir, custody)
    writeUnsealedKey(dataDir, custody, KEY)
    const file = join(dataDir, 'unsealed.key')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readUnsealedKey(dataDir, custody)?.equals(KEY)).toBe(true)
    // After a re-split the old file names the old set id.
    expect(() => readUnsealedKey(dataDir, other.record)).toThrow(/earlier split/)
    expect(wipeUnsealedKey(dataDir)).toBe(true)
    expect(existsSync(file)).toBe(false)
    expect(readUnsealedKey(dataDir, custody)).toBeNull()
    expect(wipeUnsealedKey(dataDir)).toBe(false)
    expect(readdirSync(dataDir).filter((f) => f.includes('unsealed'))).toEqual([])
  })

  it('wipe also removes a staged copy a killed unseal left beside it (it holds the key)', () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    writeCustody(dataDir, custody)
    writeUnsealedKey(dataDir, custody, KEY)
    const content = readFileSync(join(dataDir, 'unsealed.key'))
    // What stageFile leaves when the process dies between writing the temp file and renaming it.
    const leftover = join(dataDir, '.unsealed.key.0123456789ab.tmp')
    writeFileSync(leftover, content, { mode: 0o600 })
    expect(wipeUnsealedKey(dataDir)).toBe(true)
    expect(readdirSync(dataDir).filter((f) => f.includes('unsealed'))).toEqual([])
    // Sealed already (no unsealed.key), a leftover alone is still wiped.
    writeFileSync(leftover, content, { mode: 0o600 })
    expect(wipeUnsealedKey(dataDir)).toBe(false)
    expect(existsSync(leftover)).toBe(false)
  })
})

describe('SealableVault', () => {
  it('starts sealed, unseals share by share, serves, and seals again', async () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    v.close()
    writeCustody(dataDir, custody)
    const source = new SealableVault({ dataDir, name: 'default' })
    expect(source.isSealed()).toBe(true)
    expect(source.loadCredentials().credentials).toEqual([])
    const sealedToken = source.changeToken()
    expect(await source.submitShare(main.shares[0] as string)).toEqual({
      sealed: true,
      threshold: 3,
      progress: 1,
    })
    // The same share again is already counted: no error, no progress.
    expect(await source.submitShare(main.shares[0] as string)).toEqual({
      sealed: true,
      threshold: 3,
      progress: 1,
    })
    expect(await source.submitShare(main.shares[1] as string)).toMatchObject({ progress: 2 })
    expect(source.resetShares()).toEqual({ sealed: true, threshold: 3, progress: 0 })
    for (const s of main.shares.slice(2)) await source.submitShare(s)
    expect(source.isSealed()).toBe(false)
    expect(source.changeToken()).not.toBe(sealedToken)
    expect(source.loadCredentials().credentials.map((c) => c.name)).toEqual(['slack-bot'])
    source.seal()
    expect(source.isSealed()).toBe(true)
    expect(source.loadCredentials().credentials).toEqual([])
    expect(source.status()).toEqual({ sealed: true, threshold: 3, progress: 0 })
  })

  it('openStore: the vault with the key held in memory while unsealed, refused while sealed', async () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    v.close()
    writeCustody(dataDir, custody)
    const source = new SealableVault({ dataDir, name: 'default' })
    expect(() => source.openStore()).toThrow('Vault is sealed')
    for (const s of main.shares.slice(0, 3)) await source.submitShare(s)
    const store = source.openStore()
    try {
      expect((await store.list()).map((c) => c.name)).toEqual(['slack-bot'])
    } finally {
      await store.close()
    }
    // Its own connection: closing it leaves the gate's vault serving.
    expect(source.loadCredentials().credentials.map((c) => c.name)).toEqual(['slack-bot'])
    source.seal()
    expect(() => source.openStore()).toThrow('Vault is sealed')
  })

  it('a whole set sent while some of its shares are pending unseals (those already held count once)', async () => {
    const dataDir = tempDataDir()
    const v = newVault(dataDir)
    v.add(sampleCredential())
    v.close()
    writeCustody(dataDir, custody)
    const source = new SealableVault({ dataDir, name: 'default' })
    await source.submitShare(main.shares[0] as string)
    await source.submitShare(main.shares[1] as string)
    for (const s of main.shares.slice(0, 3)) await source.submitShare(s)
    expect(source.isSealed()).toBe(false)
    expect(source.loadCredentials().credentials.map((c) => c.name)).toEqual(['slack-bot'])
    source.seal()
  })

  it('the same holder position with other bytes (an altered share) is still refused', async () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    writeCustody(dataDir, custody)
    const source = new SealableVault({ dataDir, name: 'default' })
    await source.submitShare(main.shares[0] as string)
    await expect(source.submitShare(alteredSameX(main.shares[0] as string))).rejects.toMatchObject({
      code: 'duplicate_share',
    })
    expect(source.status().progress).toBe(1)
  })

  it('forgets shares given more than the timeout ago', async () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    writeCustody(dataDir, custody)
    const source = new SealableVault({ dataDir, name: 'default', unsealTimeoutMs: 50 })
    await source.submitShare(main.shares[0] as string)
    expect(source.status().progress).toBe(1)
    await new Promise((r) => setTimeout(r, 80))
    expect(source.status().progress).toBe(0)
  })

  it('refuses a whole key that fails the key check, and stays sealed', () => {
    const dataDir = tempDataDir()
    newVault(dataDir).close()
    writeCustody(dataDir, custody)
    const source = new SealableVault({ dataDir, name: 'default' })
    expect(() => source.unsealWith(Buffer.from('wrong'))).toThrow(/key check/)
    expect(source.isSealed()).toBe(true)
    expect(readFileSync(join(dataDir, 'custody.json'), 'utf8')).not.toContain(MASTER_KEY)
  })
})
