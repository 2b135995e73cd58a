import { describe, expect, it } from 'vitest'
import { FORMATS, scanFormats } from '../src/index.js'

describe('FORMATS', () => {
  it('has unique ids and regexes without capturing groups (they share one alternation)', () => {
    expect(new Set(FORMATS.map((f) => f.id)).size).toBe(FORMATS.length)
    for (const f of FORMATS) expect(new RegExp(`${f.regex.source}|`).exec('')?.length).toBe(1)
  })

  for (const format of FORMATS) {
    describe(format.id, () => {
      it('finds its example alone, in JSON, in a query and in a header, and nothing else', () => {
        const { example } = format
        for (const text of [
          example,
          JSON.stringify({ token: example }),
          `key=${example}&x=1`,
          `Authorization: Bearer ${example}\r\n`,
        ]) {
          const hits = scanFormats(text)
          expect(hits.map((h) => h.kind)).toEqual([`format:${format.id}`])
          expect(text.slice(hits[0]?.index)).toContain(example.slice(-8))
        }
      })

      it('does not match the example cut short', () => {
        const half = format.example.slice(0, Math.min(20, Math.ceil(format.example.length / 2)))
        expect(scanFormats(`x ${half} y`)).toEqual([])
      })
    })
  }
})

describe('scanFormats', () => {
  it('reads bytes as latin1 and reports byte offsets', () => {
    const example = FORMATS.find((f) => f.id === 'github-token')?.example ?? ''
    const hits = scanFormats(Buffer.from(`é ${example}`))
    expect(hits).toEqual([{ kind: 'format:github-token', index: 3, length: example.length }])
  })

  it('rejects a JWT-shaped string whose header is not JSON with alg', () => {
    const notJson = `${Buffer.from('{"typ":"JWT","x":1}').toString('base64url')}.${'a'.repeat(20)}.${'b'.repeat(30)}`
    expect(scanFormats(notJson)).toEqual([])
    const garbage = `eyJ${'q'.repeat(20)}.${'a'.repeat(20)}.${'b'.repeat(30)}`
    expect(scanFormats(garbage)).toEqual([])
  })

  it('rejects a Discord-shaped string whose first part is not a user id, and keeps scanning after it', () => {
    const fake = `${Buffer.from('notanumber-at-all!').toString('base64url')}.abcdef.${'c'.repeat(30)}`
    expect(scanFormats(fake)).toEqual([])
    const github = FORMATS.find((f) => f.id === 'github-token')?.example ?? ''
    expect(scanFormats(`${fake} ${github}`).map((h) => h.kind)).toEqual(['format:github-token'])
  })

  it('does not flag look-alikes: UUIDs, git SHAs, sha256, ULIDs, timestamps, publishable keys, PGP signatures', () => {
    const text = [
      '3f2b8c1e-9a4d-4e7b-8f1a-2c3d4e5f6a7b',
      'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      '01HZX3M8K9Q2R7T4V6W8Y0A1B2',
      '2026-03-01T12:34:56.789Z',
      '1712345678.000200',
      'pk_live_1234567890abcdefghijklmn',
      'sk-short',
      'AKIA_not_a_key',
      '-----BEGIN PGP SIGNATURE-----',
      '-----BEGIN PUBLIC KEY-----',
      'MDQ6VXNlcjU4MzIzMQ==',
    ].join('\n')
    expect(scanFormats(text)).toEqual([])
  })

  it('finds several formats in one pass, in order', () => {
    const text = FORMATS.map((f) => `<${f.example}>`).join(' ')
    expect(scanFormats(text).map((h) => h.kind)).toEqual(FORMATS.map((f) => `format:${f.id}`))
  })
})
