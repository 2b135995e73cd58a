// What one `postMessage` to a worker thread costs the sending thread, as the gate's ledger hand-off
// makes it: to a thread asleep in its event loop (the writer after its last commit: the message
// must wake it) and to one whose wake-up is already on its way (a second message right after the
// first). On a VM, waking a thread on another vCPU is an inter-processor interrupt, paid inside the
// sender's call. Prints p50 / p90 / p99 in µs of each, over `--samples` pairs.
//
// Usage: node bench/thread-wake.js [--samples 2000] [--rows 3]
// `--rows`: ledger rows in each message (21 values each, as `pushRow` lays them out).
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { option } from './lib/args.js'

const args = process.argv.slice(2)
const samples = Number(option(args, 'samples', '2000'))
const rows = Number(option(args, 'rows', '3'))

const worker = new Worker("require('node:worker_threads').parentPort.on('message', () => {})", { eval: true })
await new Promise((resolve) => worker.once('online', resolve))

/** A batch as the gate sends it: `rows` flat ledger rows and as many completions. */
function batch() {
  const values = []
  const completions = []
  for (let i = 0; i < rows; i++) {
    const ts = Date.now()
    values.push(new Date(ts).toISOString(), ts, crypto.randomUUID(), 'gate', 'agent', 'bench', 'bench')
    values.push(
      'api.bench.test',
      'GET',
      '/x',
      'allowed',
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    )
    completions.push(null, null, 200, 3, 0, 120, null, null, 1000 + i)
  }
  return [values, completions]
}

const asleep = []
const awake = []
for (let i = 0; i < samples; i++) {
  // 1 ms of silence: the worker has handled the last message and gone back to sleep.
  await new Promise((resolve) => setTimeout(resolve, 1))
  const first = batch()
  const second = batch()
  let t = performance.now()
  worker.postMessage(first)
  asleep.push(performance.now() - t)
  t = performance.now()
  worker.postMessage(second)
  awake.push(performance.now() - t)
}
await worker.terminate()

const at = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]
const line = (name, values) => {
  const sorted = values.sort((a, b) => a - b)
  const us = (ms) => (ms * 1000).toFixed(2)
  return `| ${name} | ${us(at(sorted, 0.5))} | ${us(at(sorted, 0.9))} | ${us(at(sorted, 0.99))} |`
}
process.stdout.write(
  `postMessage of ${rows} row(s), ${samples} samples (µs in the sending thread)\n\n` +
    '| to a worker | p50 | p90 | p99 |\n|---|---:|---:|---:|\n' +
    `${line('asleep (must be woken)', asleep)}\n${line('already waking (second message)', awake)}\n`,
)
