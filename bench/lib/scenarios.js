import { loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { cpuMeter, peakRssBytes, rssBytes, sampleRss } from './proc-stats.js'
import { stop } from './procs.js'
import { mb, overheadTable, scenarioTable, targetTable } from './report.js'
import { BODIES, startBaseline, startGate, startUpstream, stopGate, urlFor } from './servers.js'
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

/**
 * The default run: for each body × connection count, the targets back to back (direct, baseline,
 * gate), each a warm-up then a measured wrk run, so a burst of background load hits comparable
 * windows. The upstream, the baseline proxy and the gate run for the whole run; an idle one costs
 * nothing but memory.
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
}) {
  const loadBefore = load()
  const upstream = await startUpstream(pkiDir)
  const upstreamPort = upstream.info.port
  const proxies = new Map()
  if (targets.includes('baseline')) proxies.set('baseline', await startBaseline(pkiDir, upstreamPort))
  if (targets.includes('gate')) proxies.set('gate', await startGate(pkiDir, upstreamPort, { cpuProf }))
  const idleRss = new Map([...proxies].map(([name, p]) => [name, rssBytes(p.pid)]))
  const rows = []
  const notes = []
  let gateCompleted = 0

  for (const body of BODIES) {
    for (const c of connections) {
      for (const target of targets) {
        const proxy = proxies.get(target) ?? null
        const url = urlFor(target, proxy ? proxy.info.port : upstreamPort, body)
        log(`bench: ${body} ${c} conns ${target}: ${warmupS} s warm-up + ${durationS} s`)
        const rss = proxy ? sampleRss(proxy.pid, 200) : null
        const handshakesBefore = await upstream.ask('handshakes')
        const warm = await runWrk({ url, connections: c, durationS: warmupS })
        const cpu = cpuMeter(proxy ? [proxy.pid, upstream.pid] : [upstream.pid])
        const running = runWrk({ url, connections: c, durationS })
        // The proxy's memory breakdown one second before the end of the measured run.
        const memory = proxy
          ? await sleep(Math.max(0, durationS - 1) * 1000).then(() => proxy.ask('memory'))
          : null
        const run = await running
        const used = cpu()
        rss?.stop()
        const handshakes = (await upstream.ask('handshakes')) - handshakesBefore
        if (target === 'gate') gateCompleted += warm.requests + run.requests
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
    }
  }

  for (const [name, proxy] of proxies) {
    notes.push(
      `${name}: RSS ${mb(idleRss.get(name) ?? 0)} MB idle after start, ${mb(peakRssBytes(proxy.pid) ?? 0)} MB ` +
        'peak (VmHWM, whole run)',
    )
  }
  const gate = proxies.get('gate')
  if (gate) {
    await sleep(500)
    const final = await stopGate(gate)
    if (final) {
      const l = final.ledger
      notes.push(
        `gate ledger: ${l.total.toLocaleString('en-US')} request entries (${l.allowed} allowed, ${l.failed} failed, ` +
          `${l.blocked} blocked${codes(l.byCode)}) + ${l.system} system entries, for ` +
          `${gateCompleted.toLocaleString('en-US')} responses wrk completed. wrk drops its connections at the end of ` +
          'each run: a request in flight then is recorded as `failed`, and each reset keep-alive connection as a ' +
          `\`bad_request\`; ${final.groupCommit.batches.toLocaleString('en-US')} group-commit transactions`,
      )
    }
    if (gate.profileDir) notes.push(`gate CPU profile: ${gate.profileDir}`)
  }
  const baseline = proxies.get('baseline')
  if (baseline) await stop(baseline)
  await stop(upstream)
  notes.push(`load average (1 / 5 / 15 min) before the run ${loadBefore}, after ${load()}`)

  const targetsResult = targetTable(rows)
  const markdown = [
    `# Aegis gate benchmark — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine}.`,
    `Each scenario: ${warmupS} s warm-up, then ${durationS} s measured with \`wrk -t2 --latency\`; keep-alive ` +
      'throughout; the three targets run back to back for each body and connection count. Upstream: Node HTTPS ' +
      'on 127.0.0.1 (`/small` = 61-byte JSON, `/16k` = 16 KiB JSON). `direct` = wrk → upstream over TLS; ' +
      '`baseline` = wrk → minimal undici proxy → upstream; `gate` = wrk → Aegis gate (vault credential ' +
      'injected, SQLite ledger on) → upstream.',
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
    '## Notes',
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n')
  return { markdown, passed: targetsResult.passed }
}
