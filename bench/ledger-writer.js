// Main-thread cost of the SQLite ledger per request: the batch transaction on the event loop
// (`writer: 'inline'`) against a writer thread (`writer: 'worker'`). A closed loop of `concurrency`
// requests, each as the gate does it: append (resolved after its commit), then complete. Measured
// per row: the main thread's CPU time (Linux /proc/self/task/<pid>/stat: that thread only, and not
// inflated when the thread waits for a core on a busy machine), event-loop busy time
// (performance.eventLoopUtilization, which counts such waits), process CPU (process.cpuUsage: every
// thread) and wall time. `--work-us` adds that much synchronous work
// per request on the main thread, as a stand-in for the rest of the gate.
//
// Usage: node bench/ledger-writer.js [--requests 50000] [--rounds 3] [--concurrency 16,64]
//          [--work-us 0] [--outbox]
// Needs `pnpm build` (it runs packages/ledger/dist). A few seconds per round; prints a markdown
// table (bench/results/2026-12-06-ledger-worker.md holds the first figures and how to read them).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { openLedger } = await import(join(ROOT, 'packages/ledger/dist/index.js'))
const { Outbox } = await import(join(ROOT, 'packages/webhooks/dist/index.js'))

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? fallback : process.argv[at + 1]
}
const requests = Number(option('requests', 50_000))
const rounds = Number(option('rounds', 3))
const concurrencies = String(option('concurrency', '16,64')).split(',').map(Number)
const workUs = Number(option('work-us', 0))
const withOutbox = process.argv.includes('--outbox')

/** CPU time of the main thread so far, µs (utime + stime of its /proc task entry; 0 off Linux). */
function mainThreadCpuUs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 14 and 15 of stat (utime, stime) in clock ticks; 100 per second on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return 0
  }
}

/** Spins for `us` microseconds (the rest of a request's work on the event loop). */
function work(us) {
  if (us <= 0) return
  const until = performance.now() + us / 1000
  while (performance.now() < until) {}
}

let seq = 0
const entry = () => ({
  requestId: `bench-${seq++}`,
  channel: 'gate',
  agent: 'research-bot',
  credential: 'github-main',
  service: 'github',
  targetHost: 'api.github.com',
  method: 'GET',
  path: '/repos/acme/app/issues?state=open',
  decision: 'allowed',
})
const outcome = { status: 200, durationMs: 3, bytesIn: 0, bytesOut: 512 }

/** Runs `n` requests with `concurrency` in flight; resolves when all completed. */
function load(ledger, n, concurrency) {
  return new Promise((resolve, reject) => {
    let started = 0
    let done = 0
    const one = () => {
      started++
      work(workUs)
      ledger.append(entry()).then((id) => {
        ledger.complete(id, outcome)
        done++
        if (started < n) one()
        else if (done === n) resolve()
      }, reject)
    }
    for (let i = 0; i < concurrency && i < n; i++) one()
  })
}

async function measure(writer, concurrency) {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-ledger-bench-'))
  const extensions = withOutbox ? [new Outbox()] : []
  const ledger = openLedger({ file: join(dir, 'ledger.db'), writer, checkpoint: 'background', extensions })
  try {
    await load(ledger, 2000, concurrency) // warm-up: JIT, the thread, the page cache
    await ledger.flush()
    const main0 = mainThreadCpuUs()
    const elu0 = performance.eventLoopUtilization()
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await load(ledger, requests, concurrency)
    await ledger.flush()
    const wallMs = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const elu = performance.eventLoopUtilization(elu0)
    const mainCpu = mainThreadCpuUs() - main0
    const batches = ledger.metrics.batches
    return {
      threadUs: mainCpu / requests - workUs,
      mainUs: (elu.active * 1000) / requests - workUs,
      cpuUs: (cpu.user + cpu.system) / requests - workUs,
      wallUs: (wallMs * 1000) / requests,
      rps: Math.round((requests * 1000) / wallMs),
      batches,
    }
  } finally {
    await ledger.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = []
for (const concurrency of concurrencies) {
  const results = { inline: [], worker: [] }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['inline', 'worker'] : ['worker', 'inline']
    for (const writer of order) results[writer].push(await measure(writer, concurrency))
  }
  for (const writer of ['inline', 'worker']) {
    const r = results[writer]
    rows.push({
      writer,
      concurrency,
      threadUs: median(r.map((x) => x.threadUs)),
      mainUs: median(r.map((x) => x.mainUs)),
      cpuUs: median(r.map((x) => x.cpuUs)),
      wallUs: median(r.map((x) => x.wallUs)),
      rps: median(r.map((x) => x.rps)),
      rowsPerBatch: median(r.map((x) => (requests + 2000) / x.batches)),
    })
  }
}

const f = (x) => x.toFixed(1)
const lines = [
  `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}; ${requests} requests per round, median of ${rounds} rounds;`,
  `extra main-thread work per request: ${workUs} µs; webhook outbox attached: ${withOutbox ? 'yes' : 'no'}.`,
  '',
  '| writer | concurrency | main thread CPU µs/row | event loop busy µs/row | process CPU µs/row | wall µs/row | req/s | rows per transaction |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.writer} | ${r.concurrency} | ${f(r.threadUs)} | ${f(r.mainUs)} | ${f(r.cpuUs)} | ${f(r.wallUs)} | ${r.rps} | ${f(r.rowsPerBatch)} |`,
  ),
]
console.log(lines.join('\n'))
