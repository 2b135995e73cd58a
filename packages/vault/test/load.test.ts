import { describe, expect, it } from 'vitest'
import type { Vault } from '../src/index.js'
import { CORRUPTIONS, corruptRow } from './fixtures/corrupt-rows.js'
import { expectVaultError, newVault, sampleCredential } from './helpers.js'

const HEALTHY = 'healthy-secret-value-1111'
const BROKEN = 'broken-secret-value-2222'

function twoRows() {
  const v = newVault()
  v.add(sampleCredential({ name: 'good', service: 'good', secret: HEALTHY }))
  const broken = v.add(sampleCredential({ name: 'bad', service: 'bad', secret: BROKEN, rateLimit: '5/min' }))
  return { v, brokenId: broken.id }
}

describe('loadCredentials: one damaged row does not take the others down', () => {
  it.each(CORRUPTIONS)('$label: the other rows load, the row is named with its reason', (corruption) => {
    const { v, brokenId } = twoRows()
    corruptRow(v.file, corruption, 'bad', 'good')
    // A seal or envelope edit also changes the set of rows: accepted here (vault reseal) to test the row.
    v.reseal()

    const load = v.loadCredentials()
    expect(load.credentials.map((c) => [c.name, c.secret.reveal()])).toEqual([['good', HEALTHY]])
    expect(load.unavailable).toHaveLength(1)
    const [row] = load.unavailable
    expect(row).toMatchObject({ id: brokenId, name: 'bad', service: 'bad' })
    expect(row?.reason).toMatch(corruption.reason)
    expect(row?.reason).not.toContain(BROKEN)
    expect(row?.reason).not.toContain(HEALTHY)
    // A row whose secret still decrypts hands it over, so the gate can keep redacting it.
    expect(row?.secret?.reveal() ?? null).toBe(corruption.secretReadable ? BROKEN : null)
    expect(JSON.stringify(load)).not.toContain(BROKEN)

    // loadAll keeps its contract: it throws, naming the row.
    const err = expectVaultError(() => v.loadAll(), 'corrupt', /^Credential "bad" /)
    expect(err.message).toContain(row?.reason)
    expect(err.message).not.toContain(BROKEN)
  })

  it('a clean vault has nothing unavailable', () => {
    const { v } = twoRows()
    const load = v.loadCredentials()
    expect(load.credentials.map((c) => c.name)).toEqual(['bad', 'good'])
    expect(load.unavailable).toEqual([])
  })

  it('a damaged ciphertext is repaired by rotating it', () => {
    const { v } = twoRows()
    corruptRow(v.file, CORRUPTIONS[0] as (typeof CORRUPTIONS)[number], 'bad', 'good')
    // The damaged envelope changes the set of rows: nothing is served, and no write is taken...
    expect(v.loadCredentials().credentials).toEqual([])
    expect(() => v.rotate('bad', 'replacement-secret-3333')).toThrow(/its credentials table does not match/)
    // ...until the rows are accepted as they are (vault reseal); then only the damaged row is out.
    v.reseal()
    expect(v.loadCredentials().unavailable.map((u) => u.name)).toEqual(['bad'])
    v.rotate('bad', 'replacement-secret-3333')
    const load = v.loadCredentials()
    expect(load.unavailable).toEqual([])
    expect(load.credentials.find((c) => c.name === 'bad')?.secret.reveal()).toBe('replacement-secret-3333')
  })

  it('every row damaged: nothing loads, every row is named', () => {
    const { v } = twoRows()
    const flip = CORRUPTIONS[0] as (typeof CORRUPTIONS)[number]
    corruptRow(v.file, flip, 'bad', 'good')
    corruptRow(v.file, flip, 'good', 'bad')
    const load = v.loadCredentials()
    expect(load.credentials).toEqual([])
    expect(load.unavailable.map((u) => u.name)).toEqual(['bad', 'good'])
  })
})

describe('every damaged row can be repaired', () => {
  const repairs = {
    rotate: (v: Vault) => v.rotate('bad', 'replacement-secret-3333'),
    update: (v: Vault) => v.update('bad', { domains: ['api.example.test'], rateLimit: '10/min' }),
    remove: (v: Vault) => {
      v.remove('bad')
      v.add(sampleCredential({ name: 'bad', service: 'bad', secret: 'replacement-secret-3333' }))
    },
  }
  it.each(CORRUPTIONS)(
    '$label: listed while damaged (unless its metadata is unreadable), repaired by $repair',
    (corruption) => {
      const { v } = twoRows()
      corruptRow(v.file, corruption, 'bad', 'good')
      // A seal or envelope edit also changes the set of rows: accepted here (vault reseal) to test the row.
      v.reseal()
      // Settings that still parse as JSON and enums keep the row in `list`, so `update` can reach it.
      if (corruption.repair !== 'remove') expect(v.list().map((c) => c.name)).toEqual(['bad', 'good'])
      expectVaultError(() => v.get('bad'), 'corrupt', /^Credential "bad" /)
      repairs[corruption.repair](v)
      const load = v.loadCredentials()
      expect(load.unavailable).toEqual([])
      expect(load.credentials.map((c) => c.name)).toEqual(['bad', 'good'])
    },
  )
})
