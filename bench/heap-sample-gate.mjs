// The bench gate (gate-server.js, same arguments) under V8's sampling heap profiler, to find what
// allocates on the hot path. Send SIGUSR1 while it is under load: it prints the 45 allocation sites
// (function and its two callers) with the most sampled bytes to stderr.
//
//   AEGIS_HEAP_SAMPLE=promoted (default): only objects that survived a young-generation collection.
//     These are promoted to the old generation, and they are what makes full collections frequent.
//   AEGIS_HEAP_SAMPLE=all: every allocation, including what died young (allocation volume).
//
// Sampling starts 2.5 s after start, past the set-up. Usage:
//   node bench/heap-sample-gate.mjs <pki-dir> <upstream-port> [variant]   (then wrk, then kill -USR1)
import { Session } from 'node:inspector/promises'

const everything = process.env.AEGIS_HEAP_SAMPLE === 'all'
const session = new Session()
session.connect()
await session.post('HeapProfiler.enable')
setTimeout(
  () =>
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: everything,
    }),
  2500,
)

process.on('SIGUSR1', async () => {
  const { profile } = await session.post('HeapProfiler.getSamplingProfile')
  const sites = new Map()
  const walk = (node, stack) => {
    const frame = node.callFrame
    const here = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-3).join('/')}:${frame.lineNumber}`
    const path = [...stack, here].slice(-3)
    if (node.selfSize > 0) {
      const key = path.join(' < ')
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize)
    }
    for (const child of node.children) walk(child, path)
  }
  walk(profile.head, [])
  const total = [...sites.values()].reduce((a, b) => a + b, 0)
  process.stderr.write(`${(total / 1024).toFixed(0)} KB sampled (${everything ? 'all' : 'promoted'})\n`)
  for (const [key, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 45)) {
    process.stderr.write(`${(bytes / 1024).toFixed(0).padStart(8)} KB  ${key}\n`)
  }
})

await import('./gate-server.js')
