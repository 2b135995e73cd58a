// Summarises a V8 CPU profile (from `node bench/run.js --cpu-prof`): the functions with the most
// self time, the functions with the most inclusive time (self + what they call), and the share of
// each package / area. Percentages are of the busy time (samples that were not idle), so a gate
// that waited between scenarios reads the same as one that was loaded throughout. Usage:
//   node bench/profile-top.js <file.cpuprofile> [--top 30] [--match <regex>]
// `--match` lists the inclusive time of every function whose name matches (e.g. 'SecureContext|redact').
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, match: { type: 'string' } },
})
const file = positionals[0]
if (file === undefined) {
  process.stderr.write('usage: node bench/profile-top.js <file.cpuprofile> [--top 30]\n')
  process.exit(2)
}

const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
// Sample i lasted timeDeltas[i + 1] (the delta before the next sample); the last gets the mean.
const selfUs = new Map()
const deltas = profile.timeDeltas ?? []
const mean = deltas.length > 0 ? deltas.reduce((a, b) => a + b, 0) / deltas.length : 0
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? mean))
}
const parent = new Map()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
const all = [...selfUs.values()].reduce((a, b) => a + b, 0)
const idle = [...idleIds].reduce((sum, id) => sum + (selfUs.get(id) ?? 0), 0)
const total = all - idle

/** Where a script lives, shortened: `packages/inspect/dist/index.js`, `node:internal/…`, `undici/…`. */
function where(url) {
  if (url === '') return ''
  const pkg = url.match(/packages\/([^/]+\/dist\/.*)$/)
  if (pkg) return `packages/${pkg[1]}`
  const dep = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+\/.*)$/)
  if (dep) return dep[1]
  return url.replace(/^file:\/\//, '')
}

/** The area a function is counted in. */
function area(url, name) {
  if (url === '') return name.startsWith('(') ? name : '(native / V8)'
  const pkg = url.match(/packages\/([^/]+)\/dist\//)
  if (pkg) return `@aegis/${pkg[1]}`
  const dep = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//)
  if (dep) return dep[1]
  if (url.startsWith('node:')) return 'node: core'
  return where(url)
}

/** `name\twhere:line` for a profile node. */
function keyOf(node) {
  const { functionName, url, lineNumber } = node.callFrame
  return `${functionName || '(anonymous)'}\t${where(url)}${url ? `:${lineNumber + 1}` : ''}`
}

const functions = new Map()
const areas = new Map()
const inclusive = new Map()
for (const [id, us] of selfUs) {
  const node = byId.get(id)
  if (node === undefined || idleIds.has(id)) continue
  const key = keyOf(node)
  functions.set(key, (functions.get(key) ?? 0) + us)
  const a = area(node.callFrame.url, node.callFrame.functionName)
  areas.set(a, (areas.get(a) ?? 0) + us)
  // Every distinct function on the stack gets the sample once (recursion is not counted twice).
  const seen = new Set()
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)
    if (frame === undefined) break
    const k = keyOf(frame)
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + us)
  }
}

const pct = (us) => `${((us / total) * 100).toFixed(1)} %`
const top = Number(values.top)
const row = ([key, us]) => {
  const [name, at] = key.split('\t')
  return `| ${pct(us)} | \`${name}\` | ${at} |`
}
// Roots and the event loop's own frames hold everything: leave them out of the inclusive list.
const ROOTS = new Set([
  '(root)',
  '(program)',
  '(garbage collector)',
  'processTicksAndRejections',
  'runMicrotasks',
])
const lines = [
  `${file}: ${(all / 1e6).toFixed(1)} s of samples, ${(total / 1e6).toFixed(1)} s busy ` +
    `(${((total / all) * 100).toFixed(0)} %); percentages are of the busy time`,
  '',
  '| self | function | where |',
  '|---:|---|---|',
  ...[...functions]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(row),
  '',
  '| inclusive | function | where |',
  '|---:|---|---|',
  ...[...inclusive]
    .filter(([key]) => !ROOTS.has(key.split('\t')[0] ?? '') && !key.startsWith('(anonymous)\t\t'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(row),
  '',
  '| self | area |',
  '|---:|---|',
  ...[...areas]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([name, us]) => `| ${pct(us)} | ${name} |`),
]
if (values.match !== undefined) {
  const pattern = new RegExp(values.match, 'i')
  lines.push(
    '',
    `| inclusive | function matching /${values.match}/ | where |`,
    '|---:|---|---|',
    ...[...inclusive]
      .filter(([key]) => pattern.test(key.split('\t')[0] ?? ''))
      .sort((a, b) => b[1] - a[1])
      .map(row),
  )
}
process.stdout.write(`${lines.join('\n')}\n`)
