import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PipelineConfig, pipelineOptionsFromConfig, SILENT_LOGGER } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'
import { memorySource } from './fixtures/memory-source.js'

/**
 * The gate resolves a name once per `gate.upstream.dns_cache_ttl`, not once per request: the
 * setting goes through the same mapping `aegis gate` uses, and a counting resolver stands in for
 * DNS (`upstream.lookup`, the option a DNS-over-HTTPS client would use).
 */
const TTL = 400
const N = 24

/**
 * The cache and private-address options `aegis gate` builds from these `gate.upstream` keys (CA
 * and `--resolve` stay the harness's: its upstream's test CA and pinned names).
 */
function upstreamFromConfig(upstream: Partial<PipelineConfig['gate']['upstream']>) {
  const config: PipelineConfig = {
    gate: {
      max_body_size: 1_048_576,
      request_timeout: 5000,
      require_agent_auth: false,
      policy_mode: 'off',
      policy_default: 'allow',
      upstream: { ca_file: [], resolve: [], allow_private: ['127.0.0.1/32'], ...upstream },
    },
  }
  const audit = { append: async () => 0, complete: () => {}, system: async () => 0 }
  const { upstream: options } = pipelineOptionsFromConfig(config, {
    credentials: memorySource(),
    audit,
    logger: SILENT_LOGGER,
  })
  return {
    allowPrivate: options?.allowPrivate,
    dnsCacheTtl: options?.dnsCacheTtl,
    dnsCacheSize: options?.dnsCacheSize,
  }
}

/**
 * A gate whose upstream name `<service>.example.test` is resolved by `lookup` (counting its calls),
 * with the cache configured by `upstream` as `aegis gate` would; one credential for it.
 */
async function gateResolving(
  service: string,
  upstream: Partial<PipelineConfig['gate']['upstream']>,
  address: (call: number) => string,
): Promise<{ h: Harness; calls: string[] }> {
  const calls: string[] = []
  const h = await startHarness({
    gate: {
      upstream: {
        ...upstreamFromConfig(upstream),
        lookup: async (host: string) => {
          calls.push(host)
          return [{ address: address(calls.length), family: 4 }]
        },
      },
    },
  })
  h.add({
    name: service,
    service,
    secret: 'test-secret-dns-cache',
    domains: [`${service}.example.test:${h.upstream.port}`],
  })
  return { h, calls }
}

describe('gate.upstream.dns_cache_ttl', () => {
  let h: Harness
  let calls: string[]

  beforeAll(async () => {
    ;({ h, calls } = await gateResolving(
      'cached',
      { dns_cache_ttl: TTL, dns_cache_size: 16 },
      () => '127.0.0.1',
    ))
  })
  afterAll(() => h.close())

  const forward = () => send(h.port, '/cached/x')

  it(`forwards ${N} requests, sequential and concurrent, with one lookup while the TTL holds`, async () => {
    const before = h.upstream.received.length
    const first = await forward()
    expect(first.status).toBe(200)
    const sequential = []
    for (let i = 0; i < N / 2; i++) sequential.push((await forward()).status)
    const concurrent = (await Promise.all(Array.from({ length: N / 2 - 1 }, forward))).map((r) => r.status)
    expect([...sequential, ...concurrent]).toEqual(Array(N - 1).fill(200))
    expect(h.upstream.received.length - before).toBe(N)
    expect(calls).toEqual(['cached.example.test'])
  })

  it('looks the name up again once the TTL has passed', async () => {
    await new Promise((r) => setTimeout(r, TTL + 50))
    expect((await forward()).status).toBe(200)
    expect((await forward()).status).toBe(200)
    expect(calls).toEqual(['cached.example.test', 'cached.example.test'])
  })
})

describe('gate.upstream.dns_cache_ttl: 0', () => {
  let h: Harness
  let calls: string[]

  beforeAll(async () => {
    ;({ h, calls } = await gateResolving('uncached', { dns_cache_ttl: 0 }, () => '127.0.0.1'))
  })
  afterAll(() => h.close())

  it('resolves the name for every request', async () => {
    for (let i = 0; i < 3; i++) expect((await send(h.port, '/uncached/x')).status).toBe(200)
    expect(calls).toHaveLength(3)
  })
})

describe('a cached address that refuses connections', () => {
  // The first answer names an address nothing listens on (the upstream listens on 127.0.0.1 only);
  // every later answer is the upstream's. The TTL is long: only the failure can end the entry.
  let h: Harness
  let calls: string[]

  beforeAll(async () => {
    ;({ h, calls } = await gateResolving(
      'moved',
      { dns_cache_ttl: 300_000, allow_private: ['127.0.0.0/8'] },
      (call) => (call === 1 ? '127.0.0.2' : '127.0.0.1'),
    ))
  })
  afterAll(() => h.close())

  it('is forgotten: the next request looks the name up again and reaches the new address', async () => {
    const failed = await send(h.port, '/moved/x')
    expect(failed.status).toBe(502)
    expect(failed.headers['x-aegis-block']).toBe('upstream_unreachable')
    expect((await send(h.port, '/moved/x')).status).toBe(200)
    expect((await send(h.port, '/moved/x')).status).toBe(200)
    expect(calls).toEqual(['moved.example.test', 'moved.example.test'])
  })
})
