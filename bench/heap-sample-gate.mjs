// temp: gate-server with a sampling heap profiler; SIGUSR2 prints the top live allocation sites
import { Session } from 'node:inspector/promises'

const session = new Session()
session.connect()
await session.post('HeapProfiler.enable')
setTimeout(
  () =>
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: false,
    }),
  2500,
)
process.on('SIGUSR1', async () => {
  const { profile } = await session.post('HeapProfiler.getSamplingProfile')
  const sites = new Map()
  const walk = (n, stack) => {
    const f = n.callFrame
    const here = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-3).join('/')}:${f.lineNumber}`
    const st = [...stack, here].slice(-3)
    if (n.selfSize > 0) {
      const k = st.join(' < ')
      sites.set(k, (sites.get(k) ?? 0) + n.selfSize)
    }
    for (const c of n.children) walk(c, st)
  }
  walk(profile.head, [])
  const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 45)
  for (const [k, v] of top) process.stderr.write(`${(v / 1024).toFixed(0).padStart(7)} KB  ${k}\n`)
})
await import('./gate-server.js')
