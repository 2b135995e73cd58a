import { describe, expect, it } from 'vitest'
import { LiveCredentialSource, sqliteVaultStore, type VaultStore } from '../src/index.js'
import { newVault, sampleCredential } from './helpers.js'

/** A VaultStore whose loads can be held open and made to fail, counting them. */
function instrumented(inner: VaultStore) {
  let gate: Promise<void> | null = null
  let release: () => void = () => {}
  let failNext = false
  let failAlways = false
  const counts = { loads: 0 }
  const store: VaultStore = {
    ...inner,
    async loadCredentials() {
      counts.loads++
      if (gate) await gate
      if (failAlways) throw new Error('storage unreachable')
      if (failNext) {
        failNext = false
        throw new Error('storage unreachable')
      }
      return inner.loadCredentials()
    },
  }
  return {
    store,
    counts,
    hold() {
      gate = new Promise((r) => {
        release = () => {
          gate = null
          r()
        }
      })
    },
    release: () => release(),
    failNext() {
      failNext = true
    },
    failAlways(on: boolean) {
      failAlways = on
    },
  }
}

describe('LiveCredentialSource', () => {
  it('serves the snapshot synchronously and moves changeToken only after a reload that found a change', async () => {
    const vault = newVault()
    vault.add(sampleCredential())
    vault.addAgent({ name: 'bot' })
    const source = await LiveCredentialSource.open(sqliteVaultStore(vault))
    expect(source.isSealed()).toBe(false)
    expect(source.loadAll().map((c) => c.name)).toEqual(['slack-bot'])
    expect(source.loadCredentials().unavailable).toEqual([])
    expect(source.loadAgents().map((a) => a.name)).toEqual(['bot'])
    const first = source.changeToken()

    await source.reload()
    expect(source.changeToken()).toBe(first)

    vault.add(sampleCredential({ name: 'gh', service: 'github', secret: 'ghp_second_secret_value_1234' }))
    expect(source.loadAll()).toHaveLength(1) // nothing changes until reload()
    expect(source.changeToken()).toBe(first)
    await source.reload()
    expect(source.changeToken()).not.toBe(first)
    expect(source.loadAll().map((c) => c.name)).toEqual(['gh', 'slack-bot'])
  })

  it('never runs two reloads at once: calls during one coalesce into exactly one more', async () => {
    const vault = newVault()
    const t = instrumented(sqliteVaultStore(vault))
    const source = await LiveCredentialSource.open(t.store)
    expect(t.counts.loads).toBe(1)
    t.hold()
    const first = source.reload()
    const more = [source.reload(), source.reload(), source.reload()]
    // A change committed while the first reload is in flight must be seen by the queued one.
    vault.add(sampleCredential())
    t.release()
    await Promise.all([first, ...more])
    expect(t.counts.loads).toBe(3)
    expect(source.loadAll().map((c) => c.name)).toEqual(['slack-bot'])
    await source.reload()
    expect(t.counts.loads).toBe(4)
  })

  it('a failed reload keeps the last snapshot, reports through onError and resolves', async () => {
    const vault = newVault()
    vault.add(sampleCredential())
    const t = instrumented(sqliteVaultStore(vault))
    const errors: Error[] = []
    const source = await LiveCredentialSource.open(t.store, { onError: (e) => errors.push(e) })
    const token = source.changeToken()
    vault.remove('slack-bot')
    t.failNext()
    await expect(source.reload()).resolves.toBeUndefined()
    expect(errors.map((e) => e.message)).toEqual(['storage unreachable'])
    expect(source.loadAll().map((c) => c.name)).toEqual(['slack-bot'])
    expect(source.changeToken()).toBe(token)
    await source.reload()
    expect(source.loadAll()).toEqual([])
    expect(source.changeToken()).not.toBe(token)
  })

  it('a failed reload is retried by itself: a change it missed is not lost until the next one', async () => {
    // The change feed announced a revocation once; the reload it started failed (the pool was
    // busy). Nothing announces that change again, so the source must come back to it alone.
    const vault = newVault()
    vault.add(sampleCredential())
    const t = instrumented(sqliteVaultStore(vault))
    const errors: Error[] = []
    const source = await LiveCredentialSource.open(t.store, {
      onError: (e) => errors.push(e),
      retry: { minMs: 10, maxMs: 40 },
    })
    try {
      vault.remove('slack-bot')
      t.failNext()
      await source.reload()
      expect(errors).toHaveLength(1)
      expect(source.loadAll().map((c) => c.name)).toEqual(['slack-bot'])
      await expect.poll(() => source.loadAll(), { timeout: 2000, interval: 10 }).toEqual([])
      expect(errors).toHaveLength(1)
      // Once a reload succeeded, nothing more is retried.
      const loads = t.counts.loads
      await new Promise((r) => setTimeout(r, 100))
      expect(t.counts.loads).toBe(loads)
    } finally {
      source.close()
    }
  })

  it('keeps retrying with a growing delay while the store fails, and stops at close()', async () => {
    const vault = newVault()
    const t = instrumented(sqliteVaultStore(vault))
    const source = await LiveCredentialSource.open(t.store, { retry: { minMs: 10, maxMs: 20 } })
    t.failAlways(true)
    await source.reload()
    await expect.poll(() => t.counts.loads, { timeout: 2000, interval: 10 }).toBeGreaterThanOrEqual(5)
    source.close()
    await new Promise((r) => setTimeout(r, 30))
    const loads = t.counts.loads
    await new Promise((r) => setTimeout(r, 100))
    expect(t.counts.loads).toBe(loads)
  })

  it('open rejects when the first load fails (there is nothing to serve)', async () => {
    const t = instrumented(sqliteVaultStore(newVault()))
    t.failNext()
    await expect(LiveCredentialSource.open(t.store)).rejects.toThrow('storage unreachable')
  })
})
