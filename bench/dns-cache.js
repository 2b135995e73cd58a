// Micro-benchmark of the gate's address resolver (packages/proxy/src/upstream/resolve.ts): what the
// address stage costs per request for a name answered from the DNS cache, for a pinned name, and
// for a lookup (the system resolver's getaddrinfo, and an instant fake resolver to show the
// resolver's own share). One process, a few seconds, no network: the system lookups ask for
// `localhost`, which /etc/hosts answers.
//
//   node bench/dns-cache.js [--ms 300] [--rounds 5] [--source <resolve.ts>] [--json]
//
// `--source` runs another version of resolve.ts (e.g. `git show <rev>:packages/proxy/src/upstream/
// resolve.ts` saved beside the current one, so its imports resolve) through the same cases; one
// without a cache then looks the name up in every case but the pinned one.
// The resolver is not public API, so its source is bundled with esbuild (tsup's) into a temp dir.
// Each case runs `--rounds` times for `--ms` and reports the fastest round (the machine is shared).
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve as resolvePath } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { option as optionOf } from './lib/args.js'

const args = process.argv.slice(2)
const option = (name, fallback) => optionOf(args, name, fallback)
const budgetMs = Number(option('ms', '300'))
const rounds = Number(option('rounds', '5'))
const source = option('source', 'packages/proxy/src/upstream/resolve.ts')

const root = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(createRequire(join(root, 'package.json')).resolve('tsup'))
const esbuild = require('esbuild')
const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-dns-'))
let AddressResolver
try {
  const outfile = join(dir, 'resolve.mjs')
  await esbuild.build({
    entryPoints: [resolvePath(root, source)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@aegis/source'],
    outfile,
    logLevel: 'error',
  })
  ;({ AddressResolver } = await import(pathToFileURL(outfile).href))
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const LOOPBACK = ['127.0.0.0/8', '::1/128']
const instant = async () => [{ address: '93.184.216.34', family: 4 }]

/** Resolutions per round, fastest round: sequential, each awaited when it returns a promise. */
async function measure(resolver, host, batch = 1) {
  const first = resolver.resolve(host, 443)
  if (first instanceof Promise) await first
  let best = Number.POSITIVE_INFINITY
  let sync = 0
  for (let r = 0; r < rounds; r++) {
    let n = 0
    const start = process.hrtime.bigint()
    const until = start + BigInt(budgetMs) * 1_000_000n
    while (process.hrtime.bigint() < until) {
      if (batch === 1) {
        // 100 per clock read: the clock costs about as much as a hit.
        for (let i = 0; i < 100; i++) {
          const result = resolver.resolve(host, 443)
          if (result instanceof Promise) await result
          else sync++
        }
        n += 100
      } else {
        await Promise.all(Array.from({ length: batch }, () => resolver.resolve(host, 443)))
        n += batch
      }
    }
    const ns = Number(process.hrtime.bigint() - start) / n
    if (ns < best) best = ns
  }
  return { nsPerResolve: best, synchronous: sync > 0 }
}

// [name, resolver options, host, requests issued at once]
const PINNED = [{ host: 'api.example.com', port: 443, address: '127.0.0.1', addressPort: 8443 }]
const cases = [
  ['cache hit (dns_cache_ttl 10000)', { allowPrivate: LOOPBACK }, 'localhost', 1],
  ['pinned (--resolve)', { overrides: PINNED }, 'api.example.com', 1],
  ['miss, instant fake lookup', { lookup: instant, dnsCacheTtl: 0 }, 'api.example.com', 1],
  ['miss, system lookup (getaddrinfo)', { allowPrivate: LOOPBACK, dnsCacheTtl: 0 }, 'localhost', 1],
  ['miss, system lookup, 16 at once', { allowPrivate: LOOPBACK, dnsCacheTtl: 0 }, 'localhost', 16],
  ['cache on, 16 at once', { allowPrivate: LOOPBACK }, 'localhost', 16],
]

const results = []
for (const [name, options, host, batch] of cases) {
  results.push({ name, ...(await measure(new AddressResolver(options), host, batch)) })
}

if (args.includes('--json')) {
  process.stdout.write(`${JSON.stringify(results)}\n`)
} else {
  for (const r of results) {
    const ns =
      r.nsPerResolve >= 1000 ? `${(r.nsPerResolve / 1000).toFixed(2)} µs` : `${r.nsPerResolve.toFixed(0)} ns`
    process.stdout.write(`${r.name.padEnd(40)} ${ns.padStart(10)}${r.synchronous ? '  (synchronous)' : ''}\n`)
  }
}
