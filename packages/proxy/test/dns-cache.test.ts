import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createContext } from '../src/context.js'
import type { Snapshot } from '../src/snapshot.js'
import { address } from '../src/stages/address.js'
import type { GateRequest } from '../src/types.js'
import { AddressResolver, type LookupAnswer, type ResolveResult } from '../src/upstream/resolve.js'

/**
 * The resolver's DNS cache, driven through its real options: a zone that answers from a table
 * (changeable between calls, as an attacker's zone is) and counts its lookups. The monotonic clock
 * the cache reads (`performance.now()`) is faked, so expiry is exact; timers stay real.
 */
function zone(initial: Record<string, string[] | Error>) {
  const table: Record<string, string[] | Error | LookupAnswer[]> = { ...initial }
  const calls: string[] = []
  let gate: Promise<void> | null = null
  const lookup = async (host: string): Promise<LookupAnswer[]> => {
    calls.push(host)
    if (gate !== null) await gate
    const entry = table[host]
    if (entry === undefined) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
    if (entry instanceof Error) throw entry
    return entry.map((a) => (typeof a === 'string' ? { address: a, family: a.includes(':') ? 6 : 4 } : a))
  }
  return {
    lookup,
    table,
    calls,
    count: (host: string) => calls.filter((c) => c === host).length,
    /** Holds every lookup until the returned function is called. */
    hold(): () => void {
      let release = () => {}
      gate = new Promise((r) => {
        release = () => {
          gate = null
          r()
        }
      })
      return release
    },
  }
}

const PUBLIC = '93.184.216.34'
const PUBLIC_2 = '93.184.216.35'
const advance = (ms: number) => vi.advanceTimersByTime(ms)

function dialled(result: ResolveResult): string {
  if (!result.ok) throw new Error(`refused: ${result.refusal.code} ${result.refusal.detail}`)
  return result.dial.address
}
function refusedWith(result: ResolveResult): string {
  return result.ok ? `dialled ${result.dial.address}` : result.refusal.code
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['performance'] })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('AddressResolver: cache hits', () => {
  it('answers a cached name synchronously, with one lookup while the TTL holds', async () => {
    const dns = zone({ 'api.example.com': [PUBLIC] })
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 1000 })
    const first = resolver.resolve('api.example.com', 443)
    expect(first).toBeInstanceOf(Promise)
    expect(dialled(await first)).toBe(PUBLIC)
    for (let i = 0; i < 100; i++) {
      const hit = resolver.resolve('api.example.com', 443)
      expect(hit).not.toBeInstanceOf(Promise)
      expect(dialled(hit as ResolveResult)).toBe(PUBLIC)
      advance(9)
    }
    expect(dns.count('api.example.com')).toBe(1)
    // A hit on another port: the same verdict, the port kept for SNI, Host and the pool key.
    const other = resolver.resolve('api.example.com', 8443) as ResolveResult
    expect(other).toMatchObject({
      ok: true,
      dial: { host: 'api.example.com', port: 8443, addressPort: 8443 },
    })
    expect(dns.count('api.example.com')).toBe(1)
  })

  it('answers a pinned name synchronously, without a lookup, cache or not', () => {
    for (const dnsCacheTtl of [0, 1000]) {
      const dns = zone({})
      const resolver = new AddressResolver({
        lookup: dns.lookup,
        dnsCacheTtl,
        overrides: [{ host: 'api.example.com', port: 443, address: '127.0.0.1', addressPort: 8443 }],
      })
      const result = resolver.resolve('api.example.com', 443)
      expect(result).not.toBeInstanceOf(Promise)
      expect(result).toMatchObject({ ok: true, dial: { address: '127.0.0.1', addressPort: 8443 } })
      expect(dns.calls).toEqual([])
    }
  })

  it('looks the name up again exactly when the TTL ends', async () => {
    const dns = zone({ 'api.example.com': [PUBLIC] })
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 1000 })
    await resolver.resolve('api.example.com', 443)
    advance(999)
    expect(resolver.resolve('api.example.com', 443)).not.toBeInstanceOf(Promise)
    advance(1)
    const miss = resolver.resolve('api.example.com', 443)
    expect(miss).toBeInstanceOf(Promise)
    await miss
    expect(dns.count('api.example.com')).toBe(2)
  })

  it('with dns_cache_ttl 0, looks the name up for every request', async () => {
    const dns = zone({ 'api.example.com': [PUBLIC] })
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 0 })
    for (let i = 0; i < 3; i++) {
      const result = resolver.resolve('api.example.com', 443)
      expect(result).toBeInstanceOf(Promise)
      expect(dialled(await result)).toBe(PUBLIC)
    }
    expect(dns.count('api.example.com')).toBe(3)
  })
})

describe('the address stage', () => {
  // Only `target` and `dial` are the stage's business; the rest of the context is never read.
  const context = (host: string) => {
    const ctx = createContext({} as GateRequest, {} as Snapshot, 0)
    ctx.target = { host, port: 443 }
    return ctx
  }

  it('continues synchronously for a pinned or cached name, and waits only for a lookup', async () => {
    const dns = zone({ 'api.example.com': [PUBLIC], 'bad.example.com': ['10.0.0.1'] })
    const stage = address(
      new AddressResolver({
        lookup: dns.lookup,
        overrides: [{ host: 'pinned.example.com', port: 443, address: '127.0.0.1', addressPort: 8443 }],
      }),
    )
    const pinned = context('pinned.example.com')
    expect(stage(pinned)).toBeUndefined()
    expect(pinned.dial).toMatchObject({ address: '127.0.0.1', addressPort: 8443 })

    const miss = context('api.example.com')
    const waited = stage(miss)
    expect(waited).toBeInstanceOf(Promise)
    expect(await waited).toBeUndefined()
    const hit = context('api.example.com')
    expect(stage(hit)).toBeUndefined()
    expect(hit.dial).toMatchObject({ host: 'api.example.com', address: PUBLIC })

    await stage(context('bad.example.com'))
    const refused = context('bad.example.com')
    expect(stage(refused)).toMatchObject({ code: 'address_denied' })
    expect(refused.dial).toBeNull()
  })
})

describe('AddressResolver: DNS rebinding and forbidden answers', () => {
  it('keeps dialling the checked public address until expiry, then refuses the private answer', async () => {
    const dns = zone({ 'rebind.example.com': [PUBLIC] })
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 1000 })
    expect(dialled(await resolver.resolve('rebind.example.com', 443))).toBe(PUBLIC)
    // The zone rebinds at once; the cached answer was checked and is what gets dialled.
    dns.table['rebind.example.com'] = ['10.0.0.1']
    for (let i = 0; i < 10; i++) {
      expect(dialled(await resolver.resolve('rebind.example.com', 443))).toBe(PUBLIC)
      advance(99)
    }
    advance(10)
    expect(refusedWith(await resolver.resolve('rebind.example.com', 443))).toBe('address_denied')
    // ...and the refusal holds for every later request while that answer lives.
    expect(refusedWith(await resolver.resolve('rebind.example.com', 443))).toBe('address_denied')
    expect(dns.count('rebind.example.com')).toBe(2)
  })

  // Each answer holds a forbidden address: refused on the lookup and on every cached reuse.
  const forbidden: Array<[string, string[]]> = [
    ['loopback', ['127.0.0.1']],
    ['private', ['10.1.2.3']],
    ['metadata', ['169.254.169.254']],
    ['one public, one private', [PUBLIC, '192.168.1.1']],
    ['one private, then public', ['192.168.1.1', PUBLIC]],
    ['IPv4-mapped loopback', ['::ffff:127.0.0.1']],
    ['public v4, loopback v6', [PUBLIC, '::1']],
  ]
  for (const [what, addresses] of forbidden) {
    it(`refuses ${what} (${addresses.join(', ')}) every time, cached or not`, async () => {
      const dns = zone({ 'evil.example.com': addresses })
      const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 1000 })
      for (let i = 0; i < 5; i++) {
        expect(refusedWith(await resolver.resolve('evil.example.com', 443))).toBe('address_denied')
      }
      expect(dns.count('evil.example.com')).toBe(1)
    })
  }

  it('keeps a refusal only as long as the answer: a name that turns public is allowed after expiry', async () => {
    const dns = zone({ 'flip.example.com': [PUBLIC, '10.0.0.1'] })
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 1000 })
    expect(refusedWith(await resolver.resolve('flip.example.com', 443))).toBe('address_denied')
    dns.table['flip.example.com'] = [PUBLIC]
    advance(999)
    expect(refusedWith(await resolver.resolve('flip.example.com', 443))).toBe('address_denied')
    advance(1)
    expect(dialled(await resolver.resolve('flip.example.com', 443))).toBe(PUBLIC)
  })

  it('honours allowPrivate as configured, and nothing beyond it', async () => {
    const dns = zone({ 'inside.example.com': ['10.0.0.1'], 'outside.example.com': ['10.0.0.1', '10.1.0.1'] })
    const resolver = new AddressResolver({ lookup: dns.lookup, allowPrivate: ['10.0.0.1/32'] })
    expect(dialled(await resolver.resolve('inside.example.com', 443))).toBe('10.0.0.1')
    expect(refusedWith(await resolver.resolve('outside.example.com', 443))).toBe('address_denied')
  })
})

describe('AddressResolver: TTLs', () => {
  it("caps an answer's own TTL at dns_cache_ttl", async () => {
    const dns = zone({})
    dns.table['long.example.com'] = [{ address: PUBLIC, family: 4, ttl: 86_400 }]
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 1000 })
    await resolver.resolve('long.example.com', 443)
    advance(1000)
    await resolver.resolve('long.example.com', 443)
    expect(dns.count('long.example.com')).toBe(2)
  })

  it("keeps an answer no longer than its shortest record's TTL", async () => {
    const dns = zone({})
    dns.table['short.example.com'] = [
      { address: PUBLIC, family: 4, ttl: 30 },
      { address: PUBLIC_2, family: 4, ttl: 2 },
    ]
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 300_000 })
    await resolver.resolve('short.example.com', 443)
    advance(1999)
    expect(resolver.resolve('short.example.com', 443)).not.toBeInstanceOf(Promise)
    advance(1)
    await resolver.resolve('short.example.com', 443)
    expect(dns.count('short.example.com')).toBe(2)
  })

  const uncached: Array<[string, number]> = [
    ['TTL 0', 0],
    ['a negative TTL', -1],
    ['a NaN TTL', Number.NaN],
  ]
  for (const [what, ttl] of uncached) {
    it(`does not keep an answer with ${what}`, async () => {
      const dns = zone({})
      dns.table['zero.example.com'] = [{ address: PUBLIC, family: 4, ttl }]
      const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 10_000 })
      for (let i = 0; i < 3; i++)
        expect(dialled(await resolver.resolve('zero.example.com', 443))).toBe(PUBLIC)
      expect(dns.count('zero.example.com')).toBe(3)
    })
  }

  it('keeps dialling the address in use when a round-robin answer still holds it', async () => {
    const dns = zone({ 'rr.example.com': [PUBLIC, PUBLIC_2] })
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 1000 })
    expect(dialled(await resolver.resolve('rr.example.com', 443))).toBe(PUBLIC)
    dns.table['rr.example.com'] = [PUBLIC_2, PUBLIC]
    advance(1000)
    expect(dialled(await resolver.resolve('rr.example.com', 443))).toBe(PUBLIC)
    // Gone from the answer: the first address of the new one.
    dns.table['rr.example.com'] = [PUBLIC_2, '93.184.216.36']
    advance(1000)
    expect(dialled(await resolver.resolve('rr.example.com', 443))).toBe(PUBLIC_2)
  })

  it('rejects a TTL beyond the cap, and sizes that make no sense', () => {
    expect(() => new AddressResolver({ dnsCacheTtl: 300_001 })).toThrow(
      /dnsCacheTtl must be an integer from 0 to 300000/,
    )
    expect(() => new AddressResolver({ dnsCacheTtl: -1 })).toThrow(RangeError)
    expect(() => new AddressResolver({ dnsCacheTtl: 1.5 })).toThrow(RangeError)
    expect(() => new AddressResolver({ dnsCacheSize: 0 })).toThrow(/dnsCacheSize/)
  })
})

describe('AddressResolver: failures', () => {
  it('keeps a failed lookup for the negative TTL (1 s) only, then asks again', async () => {
    const dns = zone({})
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 10_000 })
    expect(refusedWith(await resolver.resolve('late.example.com', 443))).toBe('upstream_unreachable')
    advance(999)
    expect(refusedWith(await resolver.resolve('late.example.com', 443))).toBe('upstream_unreachable')
    expect(dns.count('late.example.com')).toBe(1)
    dns.table['late.example.com'] = [PUBLIC]
    advance(1)
    expect(dialled(await resolver.resolve('late.example.com', 443))).toBe(PUBLIC)
    expect(dns.count('late.example.com')).toBe(2)
  })

  it('never keeps a failure longer than dns_cache_ttl', async () => {
    const dns = zone({})
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 200 })
    await resolver.resolve('late.example.com', 443)
    dns.table['late.example.com'] = [PUBLIC]
    advance(200)
    expect(dialled(await resolver.resolve('late.example.com', 443))).toBe(PUBLIC)
  })

  it.each([
    ['an empty answer', [] as string[]],
    ['a resolver error', Object.assign(new Error('EAI_AGAIN'), { code: 'EAI_AGAIN' })],
  ])('answers %s with upstream_unreachable, not naming the error', async (_, entry) => {
    const dns = zone({ 'x.example.com': entry })
    const resolver = new AddressResolver({ lookup: dns.lookup })
    const result = await resolver.resolve('x.example.com', 443)
    expect(refusedWith(result)).toBe('upstream_unreachable')
    expect(result.ok ? '' : result.refusal.detail).not.toMatch(/EAI_AGAIN/)
  })

  it('fails the requests waiting on a lookup that does not answer in time, and asks again later', async () => {
    const dns = zone({ 'stuck.example.com': [PUBLIC] })
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheTtl: 10_000, lookupTimeout: 50 })
    const release = dns.hold()
    const waiting = await Promise.all([
      resolver.resolve('stuck.example.com', 443),
      resolver.resolve('stuck.example.com', 443),
    ])
    for (const result of waiting) {
      expect(result).toMatchObject({ ok: false, refusal: { code: 'upstream_unreachable' } })
      expect(result.ok ? '' : result.refusal.detail).toBe(
        'Resolving stuck.example.com took longer than 50 ms',
      )
    }
    release()
    advance(1000)
    expect(dialled(await resolver.resolve('stuck.example.com', 443))).toBe(PUBLIC)
    expect(dns.count('stuck.example.com')).toBe(2)
  })
})

describe('AddressResolver: concurrency and bounds', () => {
  it('lets concurrent requests for one name share one lookup', async () => {
    const dns = zone({ 'busy.example.com': [PUBLIC], 'bad.example.com': ['10.0.0.1'] })
    const resolver = new AddressResolver({ lookup: dns.lookup })
    const release = dns.hold()
    const pending = [
      ...Array.from({ length: 50 }, (_, i) => resolver.resolve('busy.example.com', i % 2 === 0 ? 443 : 8443)),
      ...Array.from({ length: 20 }, () => resolver.resolve('bad.example.com', 443)),
      ...Array.from({ length: 20 }, () => resolver.resolve('missing.example.com', 443)),
    ]
    release()
    const results = await Promise.all(pending)
    expect(results.slice(0, 50).map(dialled)).toEqual(Array(50).fill(PUBLIC))
    expect(results[1]).toMatchObject({ ok: true, dial: { port: 8443 } })
    expect(results.slice(50, 70).map(refusedWith)).toEqual(Array(20).fill('address_denied'))
    expect(results.slice(70).map(refusedWith)).toEqual(Array(20).fill('upstream_unreachable'))
    expect(dns.calls.toSorted()).toEqual(['bad.example.com', 'busy.example.com', 'missing.example.com'])
  })

  it('keeps at most dns_cache_size names, however many an agent names', async () => {
    const dns = zone({})
    const names = Array.from({ length: 5000 }, (_, i) => `n${i}.wild.example.com`)
    for (const name of names) dns.table[name] = [PUBLIC]
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheSize: 64 })
    for (const name of names) await resolver.resolve(name, 443)
    expect(dns.calls).toHaveLength(5000)
    // The 64 most recent are still cached; the 64 before them (and every earlier one) are gone.
    for (const name of names.slice(-64)) expect(resolver.resolve(name, 443)).not.toBeInstanceOf(Promise)
    expect(dns.calls).toHaveLength(5000)
    for (const name of names.slice(-128, -64)) await resolver.resolve(name, 443)
    expect(dns.calls).toHaveLength(5064)
  })

  it('keeps a name in steady use while a flood of one-off names passes through', async () => {
    const dns = zone({ 'api.example.com': [PUBLIC] })
    const resolver = new AddressResolver({ lookup: dns.lookup, dnsCacheSize: 8 })
    await resolver.resolve('api.example.com', 443)
    for (let i = 0; i < 100; i++) {
      dns.table[`junk${i}.example.com`] = [PUBLIC_2]
      await resolver.resolve(`junk${i}.example.com`, 443)
      expect(resolver.resolve('api.example.com', 443)).not.toBeInstanceOf(Promise)
    }
    expect(dns.count('api.example.com')).toBe(1)
  })
})
