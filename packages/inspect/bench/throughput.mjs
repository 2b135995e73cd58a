// Throughput of @aegis/inspect. Run after a build: pnpm build && node bench/throughput.mjs
// Prints one line per figure. Not part of the test suite (no timed assertions there).
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import AhoCorasick from 'modern-ahocorasick'
import { buildMatcher, createRedactor, inspectOutbound, scan, scanFormats } from '../dist/index.js'

const corpusDir = new URL('../test/corpus/', import.meta.url)
const corpus = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.body'))
  .map((f) => readFileSync(new URL(f, corpusDir)))

/** About `size` bytes of realistic JSON: the corpus bodies, repeated, as one JSON array. */
function jsonBody(size) {
  const parts = []
  let n = 0
  for (let i = 0; n < size; i++) {
    const body = corpus[i % corpus.length]
    parts.push(body)
    n += body.length + 1
  }
  return Buffer.from(`[${parts.map((p) => p.toString().trim()).join(',')}]`)
}

function secrets(count) {
  const prefixes = ['sk_live_', 'xoxb-1234567890-', 'ghp_', 'AIza', '', 'aegis_at_']
  return Array.from({ length: count }, (_, i) => ({
    value: `${prefixes[i % prefixes.length]}${randomBytes(18 + (i % 12)).toString('base64url')}`,
    kind: i % 10 === 0 ? 'agent-token' : `credential:c${i % 50}`,
  }))
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Median MB/s of `fn` over `bytes` bytes. */
function throughput(bytes, fn, rounds = 15) {
  for (let i = 0; i < 3; i++) fn()
  const times = []
  for (let i = 0; i < rounds; i++) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }
  return bytes / 1e6 / (median(times) / 1000)
}

const line = (label, value) => process.stdout.write(`${label.padEnd(58)} ${value}\n`)
const mbps = (x) => `${x.toFixed(0)} MB/s`

const body = jsonBody(1_000_000)
line('JSON body', `${(body.length / 1e6).toFixed(2)} MB from ${corpus.length} corpus bodies`)

// Build time
for (const count of [100, 1000, 10_000]) {
  const input = secrets(count)
  const cold = performance.now()
  const m = buildMatcher(input)
  const first = performance.now() - cold
  const times = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    buildMatcher(input)
    times.push(performance.now() - t)
  }
  line(
    `buildMatcher ${count} secrets (${m.patternCount} patterns)`,
    `${first.toFixed(0)} ms first, ${median(times).toFixed(0)} ms median`,
  )
}

// Scan throughput, and its independence of the number of secrets
for (const count of [10, 1000, 10_000]) {
  const m = buildMatcher(secrets(count))
  line(`scan (secrets only), ${count} secrets`, mbps(throughput(body.length, () => scan(m, body))))
}
const matcher = buildMatcher(secrets(1000))
line('scanFormats (18 formats, one alternation)', mbps(throughput(body.length, () => scanFormats(body))))
line(
  'inspectOutbound body, 1000 secrets + formats',
  mbps(throughput(body.length, () => inspectOutbound({ body }, matcher))),
)

// Redaction
function redactAll(data, chunk) {
  const r = createRedactor(matcher)
  let n = 0
  for (let i = 0; i < data.length; i += chunk) n += r.push(data.subarray(i, i + chunk)).length
  return n + r.end().length
}
const someSecrets = secrets(1000).slice(0, 50)
const dirty = Buffer.from(
  body
    .toString()
    .replace(/"sha":"[0-9a-f]{40}"/g, (m, offset) =>
      offset % 7 === 0 ? `"sha":"${someSecrets[offset % 50].value}"` : m,
    ),
)
const m2 = buildMatcher([...secrets(950), ...someSecrets])
const dirtyHits = scan(m2, dirty).length
line('redact, clean body, 64 KiB chunks', mbps(throughput(body.length, () => redactAll(body, 65536))))
line('redact, clean body, 1 KiB chunks', mbps(throughput(body.length, () => redactAll(body, 1024))))
line(
  `redact, body with ${dirtyHits} secrets, 64 KiB chunks`,
  mbps(
    throughput(dirty.length, () => {
      const r = createRedactor(m2)
      for (let i = 0; i < dirty.length; i += 65536) r.push(dirty.subarray(i, i + 65536))
      r.end()
    }),
  ),
)

// Adversarial bodies (issue 11): every view is one linear pass, so each of these costs about what a
// clean body of the same size costs, and a body twice as long takes about twice as long.
const MiB = 1 << 20
const adversarial = {
  '%25%25%25…': '%25',
  '\\u\\u\\u…': '\\u',
  '&#&#&#…': '&#',
  '\\ run': '\\',
  'a line break between every byte': 'a\n',
  'JSON \\n between every byte': 'a\\n',
  '\\u0041 (a letter a secret holds, decoded)': '\\u0041',
  '&#x41; (decoded)': '&#x41;',
  '%41 (decoded)': '%41',
}
for (const [name, unit] of Object.entries(adversarial)) {
  for (const size of [MiB, 2 * MiB]) {
    const data = Buffer.from(unit.repeat(Math.ceil(size / unit.length)).slice(0, size))
    const label = `${name}, ${size / MiB} MiB`
    line(
      `inspectOutbound, ${label}`,
      mbps(throughput(data.length, () => inspectOutbound({ body: data }, matcher), 3)),
    )
    line(`redact 64 KiB chunks, ${label}`, mbps(throughput(data.length, () => redactAll(data, 65536), 3)))
  }
}

// False positives on the corpus
let findings = 0
let corpusBytes = 0
for (const b of corpus) {
  corpusBytes += b.length
  findings += inspectOutbound({ body: b }, matcher).length
}
line(
  'false positives on the corpus',
  `${findings} findings in ${corpus.length} bodies (${(corpusBytes / 1e3).toFixed(0)} KB)`,
)

// The library option: modern-ahocorasick over a latin1 string, with raw + hex + base64 of each secret
const text = body.toString('latin1')
const words = secrets(1000).flatMap(({ value }) => {
  const raw = Buffer.from(value)
  return [value, raw.toString('hex'), raw.toString('base64').replace(/=+$/, '').slice(1, -1)]
})
const t0 = performance.now()
const ac = new AhoCorasick(words)
line(`modern-ahocorasick build (${words.length} patterns)`, `${(performance.now() - t0).toFixed(0)} ms`)
line('modern-ahocorasick count() on the same body', mbps(throughput(body.length, () => ac.count(text), 5)))
