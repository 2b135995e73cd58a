import { setTimeout as sleep } from 'node:timers/promises'
import { peakRssBytes, rssBytes } from './proc-stats.js'
import { stop } from './procs.js'
import { mb, TARGETS } from './report.js'
import { startGate, startUpstream, stopGate, urlFor } from './servers.js'
import { runWrk } from './wrk.js'

const CONNECTIONS = 16
const THREADS = 2
const WARMUP_REQUESTS = 40_000
const SAMPLE_EVERY_MS = 5000

const verdict = (ok) => (ok ? '**PASS**' : '**FAIL**')
const int = (n) => Math.round(n).toLocaleString('en-US')
const average = (values) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)

/**
 * The soak: `requests` small requests through the gate at 16 connections (each wrk thread stops
 * after its share, so the count sent is exact), RSS sampled every 5 s after a warm-up; then
 * the gate is stopped and its ledger counted: one request entry per request sent, plus the
 * system entries.
 */
export async function runSoak({ pkiDir, log, machine, startedAt, requests, cpuProf, gateNodeArgs = [] }) {
  const upstream = await startUpstream(pkiDir)
  const gate = await startGate(pkiDir, upstream.info.port, { cpuProf, nodeArgs: gateNodeArgs })
  const url = urlFor('gate', gate.info.port, 'small')
  const idle = rssBytes(gate.pid) ?? 0

  log(`bench: soak warm-up, ${int(WARMUP_REQUESTS)} requests`)
  const warm = await runWrk({
    url,
    connections: CONNECTIONS,
    threads: THREADS,
    durationS: 3600,
    limitPerThread: Math.ceil(WARMUP_REQUESTS / THREADS),
  })

  const perThread = Math.ceil(requests / THREADS)
  log(
    `bench: soak ${int(perThread * THREADS)} requests through the gate, RSS every ${SAMPLE_EVERY_MS / 1000} s`,
  )
  const samples = []
  const began = Date.now()
  const take = () => {
    const bytes = rssBytes(gate.pid)
    if (bytes === null) return
    samples.push({ s: (Date.now() - began) / 1000, bytes })
    log(`       ${Math.round((Date.now() - began) / 1000)} s: RSS ${mb(bytes)} MB`)
  }
  take()
  const timer = setInterval(take, SAMPLE_EVERY_MS)
  let run
  try {
    run = await runWrk({
      url,
      connections: CONNECTIONS,
      threads: THREADS,
      durationS: 3600,
      limitPerThread: perThread,
    })
  } finally {
    clearInterval(timer)
  }
  take()
  const hwm = peakRssBytes(gate.pid) ?? 0
  await sleep(1000)
  const final = await stopGate(gate)
  await stop(upstream)

  const first = average(samples.slice(0, 3).map((s) => s.bytes))
  const last = average(samples.slice(-3).map((s) => s.bytes))
  const peak = Math.max(...samples.map((s) => s.bytes))
  const growth = last - first
  const sent = warm.sent + run.sent
  const ledger = final?.ledger
  const growthOk = growth <= TARGETS.soakGrowthBytes
  const peakOk = peak <= TARGETS.rssBytes
  const ledgerOk = ledger !== undefined && ledger.total === sent
  const soakOk = run.sent >= requests

  const every = Math.max(1, Math.round(samples.length / 24))
  const series = samples.filter((_, i) => i % every === 0 || i === samples.length - 1)
  const markdown = [
    `# Aegis gate soak — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine}.`,
    ...(gateNodeArgs.length > 0 ? [`Gate started with node ${gateNodeArgs.join(' ')}.`] : []),
    `wrk -t${THREADS} -c${CONNECTIONS} on \`/bench/small\` through the gate (ledger on): a warm-up of ` +
      `${int(warm.sent)} requests, then ${int(run.sent)}; each wrk thread counts what it sends, sends nothing ` +
      `more after its share (${int(perThread)}) and stops once its last response is in, so no request is cut off.`,
    '',
    '## Load',
    '',
    '| | requests sent | completed | seconds | req/s | p50 ms | p99 ms | max ms | non-2xx / socket errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[
      ['warm-up', warm],
      ['soak', run],
    ].map(
      ([name, r]) =>
        `| ${name} | ${int(r.sent)} | ${int(r.requests)} | ${r.seconds.toFixed(1)} | ${int(r.rps)} | ` +
        `${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.errors.status} / ` +
        `${r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout} |`,
    ),
    '',
    '## Gate memory',
    '',
    `RSS idle after start ${mb(idle)} MB; soak start (after warm-up, mean of the first 3 samples) ${mb(first)} MB; ` +
      `end (mean of the last 3) ${mb(last)} MB; peak sample ${mb(peak)} MB; process high-water mark (VmHWM) ${mb(hwm)} MB.`,
    '',
    '| t (s) | RSS MB |',
    '|---:|---:|',
    ...series.map((s) => `| ${s.s.toFixed(0)} | ${mb(s.bytes)} |`),
    '',
    '## Ledger',
    '',
    ledger
      ? `${int(ledger.total)} request entries (${int(ledger.allowed)} allowed, ${int(ledger.failed)} failed, ` +
        `${int(ledger.blocked)} blocked) + ${ledger.system} system entries = ${int(ledger.total + ledger.system)} rows, ` +
        `for ${int(sent)} requests sent (warm-up + soak); ${int(final.groupCommit.batches)} group-commit transactions.`
      : 'The gate did not report its ledger figures.',
    '',
    '## Targets',
    '',
    '| Target | Measured | Limit | Result |',
    '|---|---:|---:|---|',
    `| requests through the gate | ${int(run.sent)} | ≥ ${int(requests)} | ${verdict(soakOk)} |`,
    `| no memory growth (end − start) | ${mb(growth)} MB | ≤ ${mb(TARGETS.soakGrowthBytes)} MB | ${verdict(growthOk)} |`,
    `| RSS under load (peak sample) | ${mb(peak)} MB | ≤ 120 MB | ${verdict(peakOk)} |`,
    `| ledger request entries = requests sent | ${ledger ? int(ledger.total) : '–'} | ${int(sent)} | ${verdict(ledgerOk)} |`,
    ...(gate.profileDir ? ['', `Gate CPU profile: ${gate.profileDir}`] : []),
  ].join('\n')
  return { markdown, passed: growthOk && peakOk && ledgerOk && soakOk }
}
