// Micro-benchmark of loading a large policy (packages/policy, built dist/): how long `parsePolicy`
// holds the event loop for a file near the size limit. A gate re-reads a changed policy on its
// event loop, so this is how long every request waits while an operator saves such a file.
//
//   node bench/policy-load.js [--rules 1000] [--segment 120] [--rounds 5]
//
// The file: one agent, `--rules` rules, each with one path pattern of about 8 × `--segment`
// characters of plain text and a few regex parts (`/v1/segmentsegment…17/[a-z0-9]+/items/.*`);
// the defaults make ~0.9 MiB, under MAX_POLICY_FILE_SIZE. Prints the fastest and the median round.
import { option as optionOf } from './lib/args.js'
import { importBuilt } from './lib/deps.js'

const args = process.argv.slice(2)
const option = (name, fallback) => optionOf(args, name, fallback)
const rules = Number(option('rules', '1000'))
const segment = Number(option('segment', '120'))
const rounds = Number(option('rounds', '5'))

const { parsePolicy, MAX_POLICY_FILE_SIZE } = await importBuilt('policy')
let text = 'agent: bench-agent\nrules:\n'
for (let i = 0; i < rules; i++) {
  const path = `/v1/${'segment'.repeat(segment)}${i}/[a-z0-9]+/items/.*`
  text += `  - service: bench\n    methods: [GET, POST]\n    paths: ["${path}"]\n`
}
const size = Buffer.byteLength(text)
if (size > MAX_POLICY_FILE_SIZE) {
  process.stderr.write(`bench: ${size} bytes is over MAX_POLICY_FILE_SIZE (${MAX_POLICY_FILE_SIZE})\n`)
  process.exit(2)
}
const times = []
for (let round = 0; round < rounds; round++) {
  const started = performance.now()
  parsePolicy(text, 'bench-agent.yaml')
  times.push(performance.now() - started)
}
times.sort((a, b) => a - b)
const median = times[Math.floor(times.length / 2)]
console.log(
  `policy of ${rules} rules, ${(size / 1024).toFixed(0)} KiB: fastest ${times[0].toFixed(0)} ms, median ${median.toFixed(0)} ms`,
)
