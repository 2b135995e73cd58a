import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildMatcher, inspectOutbound, scanFormats } from '../src/index.js'

const dir = new URL('./corpus/', import.meta.url)
const files = readdirSync(dir).filter((f) => f.endsWith('.body'))

/** Deterministic vault-like secrets: provider prefixes plus random-looking tails. */
function vaultSecrets(count: number) {
  let seed = 99
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  const next = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
    return alphabet[seed % alphabet.length] ?? 'a'
  }
  const prefixes = ['sk_live_', 'xoxb-1234-', 'ghp_', 'key-', '', 'AIza']
  return Array.from({ length: count }, (_, i) => ({
    value: `${prefixes[i % prefixes.length]}${Array.from({ length: 24 + (i % 20) }, next).join('')}`,
    kind: `credential:c${i}`,
  }))
}

describe('false-positive corpus (ordinary API bodies)', () => {
  it('is big enough to mean something', () => {
    const total = files.reduce((n, f) => n + readFileSync(new URL(f, dir)).length, 0)
    expect(files.length).toBeGreaterThanOrEqual(50)
    expect(total).toBeGreaterThan(300_000)
  })

  const matcher = buildMatcher(vaultSecrets(1000))
  for (const file of files) {
    it(`${file}: zero findings`, () => {
      const body = readFileSync(new URL(file, dir))
      expect(scanFormats(body)).toEqual([])
      expect(inspectOutbound({ body }, matcher)).toEqual([])
    })
  }
})
