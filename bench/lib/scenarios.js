import { loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { GATE_VARIANTS } from './gate-variants.js'
import { cpuMeter, peakRssBytes, rssBytes, sampleRss } from './proc-stats.js'
import { stop } from './procs.js'
import { mb, overheadTable, scenarioTable, targetTable, variantTable } from './report.js'
import {
  BODIES,
  isGate,
  REQUESTS,
  startBaseline,
  startGate,
  startUpstream,
  stopGate,
  urlFor,
} from './servers.js'
import { runWrk } from './wrk.js'

/** `; codes code: n, …` for the refusal codes in the ledger, if any. */
function codes(byCode) {
  const parts = Object.entries(byCode ?? {}).map(([code, n]) => `${code}: ${n}`)
  return parts.length === 0 ? '' : `; codes ${parts.join(', ')}`
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')

/** Everything wrk can be pointed at: the upstream, the minimal proxy, each gate configuration. */
export const ALL_TARGETS = ['direct', 'baseline', ...GATE_VARIANTS]

/** The gate configurations that also run the POST scenario (inspection off vs on). */
const POST_TARGETS = ['gate', 'gate+inspect']

/**
 * Every scenario of the run, in order: for each GET body × connection count, every target back to
 * back; then, per connection count, the 1 KiB POST through the gate with and without inspection.
 */
export function scenarioPlan(connections, targets) {
  const plan = []
  for (const body of BODIES) {
    for (const c of connections) for (const target of targets) plan.push({ body, connections: c, target })
  }
  for (const c of connections) {
    for (const target of POST_TARGETS) {
      if (targets.includes(target)) plan.push({ body: 'post1k', connections: c, target })
    }
  }
  return plan
}

/**
 * The default run: the scenarios of `scenarioPlan`, each a warm-up then a measured wrk run, so a
 * burst of background load hits comparable windows. The upstream, the baseline proxy and every gate
 * configuration run for the whole run; an idle one costs little but memory.
 */
export async function runScenarios({
  pkiDir,
  log,
  machine,
  startedAt,
  durationS,
  warmupS,
  connections,
  targets,
  cpuProf,
  gateNodeArgs = [],
}) {
  const loadBefore = load()
  const upstream = await startUpstream(pkiDir)
  const upstreamPort = upstream.info.port
  const proxies = new Map()
  if (targets.includes('baseline')) proxies.set('baseline', await startBaseline(pkiDir, upstreamPort))
  for (const variant of targets.filter(isGate)) {
    proxies.set(variant, await startGate(pkiDir, upstreamPort, { cpuProf, variant, nodeArgs: gateNodeArgs }))
  }
  const idleRss = new Map([...proxies].map(([name, p]) => [name, rssBytes(p.pid)]))
  const rows = []
  const notes = []
  const completed = new Map()

  for (const { body, connections: c, target } of scenarioPlan(connections, targets)) {
    const proxy = proxies.get(target) ?? null
    const url = urlFor(target, proxy ? proxy.info.port : upstreamPort, body)
    const wrkOptions = {
      url,
      connections: c,
      request: REQUESTS[body].request,
      agentToken: proxy?.agentToken ?? null,
    }
    log(`bench: ${body} ${c} conns ${target}: ${warmupS} s warm-up + ${durationS} s`)
    const rss = proxy ? sampleRss(proxy.pid, 200) : null
    let warm
    let run
    let used
    let memory = null
    const handshakesBefore = await upstream.ask('handshakes')
    try {
      warm = await runWrk({ ...wrkOptions, durationS: warmupS })
      const cpu = cpuMeter(proxy ? [proxy.pid, upstream.pid] : [upstream.pid])
      const running = runWrk({ ...wrkOptions, durationS })
      // The proxy's memory breakdown one second before the end of the measured run.
      if (proxy) memory = await sleep(Math.max(0, durationS - 1) * 1000).then(() => proxy.ask('memory'))
      run = await running
      used = cpu()
    } finally {
      // Also on a failure: a running sampler would keep the runner alive.
      rss?.stop()
    }
    const handshakes = (await upstream.ask('handshakes')) - handshakesBefore
    completed.set(target, (completed.get(target) ?? 0) + warm.requests + run.requests)
    rows.push({
      target,
      body,
      connections: c,
      ...run,
      cpu: proxy ? used : [null, used[0]],
      peakRss: rss ? rss.peak() : null,
      memory,
      handshakes,
    })
    log(`       ${Math.round(run.rps)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms`)
  }

  for (const [name, proxy] of proxies) {
    notes.push(
      `${name}: RSS ${mb(idleRss.get(name) ?? 0)} MB idle after start, ${mb(peakRssBytes(proxy.pid) ?? 0)} MB ` +
        'peak (VmHWM, whole run)',
    )
  }
  await sleep(500)
  for (const [name, gate] of [...proxies].filter(([n]) => isGate(n))) {
    const { credentials, policyRules, setupMs } = gate.info
    notes.push(
      `${name} configuration: ${credentials} credential${credentials === 1 ? '' : 's'} in the vault` +
        (policyRules > 0 ? `, ${policyRules} policy rules for the agent` : '') +
        ` (set up in ${setupMs} ms)`,
    )
    const final = await stopGate(gate)
    if (final) {
      const l = final.ledger
      notes.push(
        `${name} ledger: ${l.total.toLocaleString('en-US')} request entries (${l.allowed} allowed, ${l.failed} failed, ` +
          `${l.blocked} blocked${codes(l.byCode)}) + ${l.system} system entries, for ` +
          `${(completed.get(name) ?? 0).toLocaleString('en-US')} responses wrk completed (wrk drops its connections ` +
          'at the end of each run: a request in flight then is recorded as `failed`); ' +
          `${final.groupCommit.batches.toLocaleString('en-US')} group-commit transactions`,
      )
    }
    if (gate.profileDir) notes.push(`${name} CPU profile: ${gate.profileDir}`)
  }
  const baseline = proxies.get('baseline')
  if (baseline) await stop(baseline)
  await stop(upstream)
  notes.push(`load average (1 / 5 / 15 min) before the run ${loadBefore}, after ${load()}`)
  if (gateNodeArgs.length > 0) notes.unshift(`gate processes started with node ${gateNodeArgs.join(' ')}`)

  const targetsResult = targetTable(rows)
  const markdown = [
    `# Aegis gate benchmark — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine}.`,
    `Each scenario: ${warmupS} s warm-up, then ${durationS} s measured with \`wrk -t2 --latency\`; keep-alive ` +
      'throughout; for each body and connection count the targets run back to back. Upstream: Node HTTPS ' +
      'on 127.0.0.1 (`/small` = 61-byte JSON, `/16k` = 16 KiB JSON; `post1k` = POST of a 1 KiB JSON body to ' +
      '`/small`). `direct` = wrk → upstream over TLS; `baseline` = wrk → minimal undici proxy → upstream; ' +
      '`gate` = wrk → Aegis gate (vault credential injected, outbound inspection off, response redaction on, ' +
      'SQLite ledger on) → upstream; `gate+auth+policy` = the same with `requireAgentAuth`, the agent token ' +
      'in `X-Aegis-Agent` and a 20-rule policy file in enforce mode (the 20th rule allows the bench path); ' +
      '`gate+inspect` = the bench credential with `bodyInspection: block` and 1,000 more credentials in the ' +
      'vault, so inspection and redaction match against 1,001 secrets.',
    'CPU is in cores (1.00 = one core busy) for the proxy under test and the upstream; the load generator ' +
      "shares the same cores. Heap is the proxy's V8 heap used / reserved (MB) one second before the end of " +
      'the run; TLS = new upstream TLS connections during warm-up + run (keep-alive reuse keeps it low).',
    '',
    '## Results',
    '',
    scenarioTable(rows),
    '',
    '## Targets',
    '',
    targetsResult.table,
    '',
    '## Gate overhead',
    '',
    overheadTable(rows),
    '',
    '## Gate configurations against the plain gate',
    '',
    'CPU µs/request = CPU of the gate process ÷ requests per second (event loop and everything else).',
    '',
    variantTable(rows),
    '',
    '## Notes',
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n')
  return { markdown, passed: targetsResult.passed }
}
