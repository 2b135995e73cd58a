// Micro-benchmark of response redaction and request inspection (packages/inspect, built dist/):
// nanoseconds per call for the work the gate does per response (its header values and body) and per
// inspected request. Runs in one process, a few seconds; no network.
//
//   node bench/redact.js [--ms 300] [--rounds 5] [--secrets 1,1001] [--compare <other dist/index.js>] [--json]
//
// Each case runs `--rounds` times for `--ms` and reports the fastest round (the machine is shared:
// the fastest round is the one least disturbed). With `--compare`, a second build of @aegis/inspect
// (e.g. one built from the commit before a change, copied inside packages/inspect/ so that it
// resolves its dependencies) runs the same cases, taking turns with this one round by round.
//
// Cases per matcher size:
// - `resp clean`: nginx's header values + a 28-byte JSON body without any secret
// - `resp dirty`: the same, the body echoing the credential (`{"ok":true,"auth":"Bearer <secret>"}`),
//   as the nginx bench upstream does: every response is redacted
// - `resp dirty 2 parts`: the dirty body split in two parts through the secret
// - `body 16k clean` / `body 16k dirty`: a 16 KiB JSON body, the dirty one with the secret in the middle
// - `inspect GET`: outbound inspection of a GET's path, query and headers
// - `inspect POST 16k`: the same plus a 16 KiB JSON body
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { option as optionOf } from './lib/args.js'
import { importBuilt } from './lib/deps.js'

const args = process.argv.slice(2)
const option = (name, fallback) => optionOf(args, name, fallback)
const budgetMs = Number(option('ms', '300'))
const rounds = Number(option('rounds', '5'))
const sizes = option('secrets', '1,1001').split(',').map(Number)
const compare = option('compare', null)

const builds = [{ label: 'this build', inspect: await importBuilt('inspect') }]
if (compare !== null)
  builds.push({ label: compare, inspect: await import(pathToFileURL(resolve(compare)).href) })

const SECRET = 'bench-secret-token'
/** What nginx answers with (the header values the gate sees; names are never redacted). */
const HEADERS = {
  server: 'nginx/1.22.1',
  date: 'Sun, 06 Dec 2026 12:00:00 GMT',
  'content-type': 'application/json',
  'content-length': '46',
  connection: 'keep-alive',
}

/** The gate's per-response work: its header values and the body read whole (redact-response.ts). */
function responder(inspect) {
  const { containsSecret, redactBuffer, redactText } = inspect
  const redactWhole =
    inspect.redactParts === undefined
      ? (parts, matcher) => {
          if (!containsSecret(parts, matcher)) return parts
          return [redactBuffer(Buffer.concat(parts), matcher).bytes]
        }
      : (parts, matcher) => {
          const redacted = inspect.redactParts(parts, matcher)
          return redacted === null ? parts : [redacted.bytes]
        }
  const response = (parts, matcher) => {
    let n = 0
    for (const name in HEADERS) {
      const value = HEADERS[name]
      if (value.length < matcher.minLength) continue
      n += redactText(value, matcher).count
    }
    return n + redactWhole(parts, matcher).length
  }
  return { redactWhole, response }
}

function json16k(secret) {
  const rows = []
  let size = 0
  for (let i = 0; size < 16 * 1024; i++) {
    const row = `{"id":${i},"name":"item-${i}","note":"lorem ipsum dolor sit amet, consectetur"}`
    rows.push(row)
    size += row.length + 1
    if (secret && i === 100) rows.push(`{"token":"${secret}"}`)
  }
  return Buffer.from(`[${rows.join(',')}]`)
}

function time(fn) {
  let calls = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(budgetMs) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let i = 0; i < 100; i++) fn()
    calls += 100
    now = process.hrtime.bigint()
  }
  return Number(now - start) / calls
}

const SECRET_INPUTS = new Map()
function inputsFor(size) {
  if (!SECRET_INPUTS.has(size)) {
    const inputs = [{ value: SECRET, kind: 'credential:bench' }]
    for (let i = 1; i < size; i++)
      inputs.push({ value: randomBytes(24).toString('base64url'), kind: `credential:s${i}` })
    SECRET_INPUTS.set(size, inputs)
  }
  return SECRET_INPUTS.get(size)
}

function casesOf(inspect, size) {
  const matcher = inspect.buildMatcher(inputsFor(size))
  const { redactWhole, response } = responder(inspect)
  const clean = [Buffer.from('{"ok":true,"auth":"Bearer x"}')]
  const dirtyBody = Buffer.from(`{"ok":true,"auth":"Bearer ${SECRET}"}`)
  const dirty = [dirtyBody]
  const cut = dirtyBody.indexOf(SECRET) + 5
  const split = [dirtyBody.subarray(0, cut), dirtyBody.subarray(cut)]
  const big = [json16k(null)]
  const bigDirty = [json16k(SECRET)]
  const getParts = {
    path: '/v1/items/42',
    query: 'limit=10&cursor=abc123def456',
    headers: ['user-agent', 'wrk/4.1', 'accept', 'application/json', 'host', 'api.bench.test'],
  }
  const postParts = { ...getParts, body: json16k(null) }
  // Sanity: the dirty bodies come out without the secret.
  for (const parts of [dirty, split, bigDirty]) {
    if (Buffer.concat(redactWhole(parts, matcher)).includes(SECRET))
      throw new Error('bench: secret not redacted')
  }
  return {
    'resp clean': () => response(clean, matcher),
    'resp dirty': () => response(dirty, matcher),
    'resp dirty 2 parts': () => response(split, matcher),
    'body 16k clean': () => redactWhole(big, matcher),
    'body 16k dirty': () => redactWhole(bigDirty, matcher),
    'inspect GET': () => inspect.inspectOutbound(getParts, matcher),
    'inspect POST 16k': () => inspect.inspectOutbound(postParts, matcher),
  }
}

const results = []
for (const size of sizes) {
  const perBuild = builds.map((b) => casesOf(b.inspect, size))
  for (const name of Object.keys(perBuild[0])) {
    const best = builds.map(() => Number.POSITIVE_INFINITY)
    for (const cases of perBuild) for (let i = 0; i < 2000; i++) cases[name]()
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? builds.map((_, i) => i) : builds.map((_, i) => builds.length - 1 - i)
      for (const i of order) best[i] = Math.min(best[i], time(perBuild[i][name]))
    }
    results.push({ secrets: size, case: name, ns: best.map(Math.round) })
  }
}

if (args.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ builds: builds.map((b) => b.label), results })}\n`)
} else {
  const head = builds.map((b) => `ns/call (${b.label})`)
  const ratio = builds.length === 2 ? ' | ratio |' : ' |'
  process.stdout.write(
    `| secrets | case | ${head.join(' | ')}${ratio}\n|---:|---|${head.map(() => '---:|').join('')}${builds.length === 2 ? '---:|' : ''}\n`,
  )
  for (const r of results) {
    const cells = r.ns.map((ns) => ns.toLocaleString('en-US')).join(' | ')
    const extra = r.ns.length === 2 ? ` | ${(r.ns[0] / r.ns[1]).toFixed(2)} |` : ' |'
    process.stdout.write(`| ${r.secrets} | ${r.case} | ${cells}${extra}\n`)
  }
}
