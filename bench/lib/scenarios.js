import { loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { GATE_VARIANTS } from './gate-variants.js'
import { cpuMeter, peakRssBytes, rssBytes, sampleRss } from './proc-stats.js'
import { stop } from './procs.js'
import {
  COST_NOTE,
  costRow,
  costTable,
  errorCount,
  int,
  mb,
  median,
  overheadTable,
  pacedTable,
  scenarioTable,
  targetTable,
  variantTable,
} from './report.js'
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
  pacedRate = 0,
  pacedRounds = 3,
  costRate = 0,
  costRounds = 6,
  rounds = 1,
  fresh = false,
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
  /** Ledger figures of gates replaced by --fresh (the notes report the last process of each). */
  const completedLedgers = []

  /** One warm-up then one measured wrk run of `target`; resolves with its row. */
  const measure = async ({ body, connections: c, target }, round) => {
    const proxy = proxies.get(target) ?? null
    const url = urlFor(target, proxy ? proxy.info.port : upstreamPort, body)
    const wrkOptions = {
      url,
      connections: c,
      request: REQUESTS[body].request,
      agentToken: proxy?.agentToken ?? null,
    }
    const of = rounds > 1 ? ` (round ${round}/${rounds})` : ''
    log(`bench: ${body} ${c} conns ${target}${of}: ${warmupS} s warm-up + ${durationS} s`)
    const rss = proxy ? sampleRss(proxy.pid, 200) : null
    let warm
    let run
    let used
    let loop = null
    let memory = null
    const handshakesBefore = await upstream.ask('handshakes')
    try {
      warm = await runWrk({ ...wrkOptions, durationS: warmupS })
      const cpu = cpuMeter(proxy ? [proxy.pid, upstream.pid] : [upstream.pid])
      const loopCpu = proxy ? cpuMeter([proxy.pid], { thread: true }) : null
      const running = runWrk({ ...wrkOptions, durationS })
      // The proxy's memory breakdown one second before the end of the measured run.
      if (proxy) memory = await sleep(Math.max(0, durationS - 1) * 1000).then(() => proxy.ask('memory'))
      run = await running
      used = cpu()
      loop = loopCpu?.()[0] ?? null
    } finally {
      // Also on a failure: a running sampler would keep the runner alive.
      rss?.stop()
    }
    const handshakes = (await upstream.ask('handshakes')) - handshakesBefore
    completed.set(target, (completed.get(target) ?? 0) + warm.requests + run.requests)
    log(`       ${Math.round(run.rps)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms`)
    return {
      target,
      body,
      connections: c,
      ...run,
      cpu: proxy ? used : [null, used[0]],
      loopCpu: loop,
      peakRss: rss ? rss.peak() : null,
      memory,
      handshakes,
    }
  }

  // With several rounds the targets of one body and connection count take turns, round after
  // round, so a burst of background load or a slow drift hits every target alike; each row is then
  // the target's median round (by req/s), and keeps every round's req/s for the paired ratios.
  for (const group of scenarioGroups(scenarioPlan(connections, targets))) {
    const runs = new Map(group.map((scenario) => [scenario.target, []]))
    for (let round = 1; round <= rounds; round++) {
      // Every other round in reverse order (ABBA…): a target that always ran right after another
      // would carry whatever that one left behind (a hot upstream, a GC debt) in every round.
      const order = round % 2 === 1 ? group : [...group].reverse()
      // --fresh: new gate processes for every round after the first, started in the round's order.
      // Two identical gates differ by up to ±10 % (JIT and GC state of the process), which the
      // median over rounds of one process pair cannot average out; and the process started second
      // showed more GC in profiles whichever configuration it ran (2026-12-06-metrics-cost.md).
      if (fresh && round > 1) {
        for (const { target } of order) {
          const old = proxies.get(target)
          if (!old || !isGate(target)) continue
          const final = await stopGate(old)
          if (final) completedLedgers.push({ name: target, final })
          proxies.set(
            target,
            await startGate(pkiDir, upstreamPort, { cpuProf, variant: target, nodeArgs: gateNodeArgs }),
          )
        }
      }
      for (const scenario of order) runs.get(scenario.target).push(await measure(scenario, round))
    }
    for (const scenario of group) rows.push(medianRound(runs.get(scenario.target)))
  }

  const paced =
    pacedRate > 0
      ? await runPaced({
          proxies,
          upstream,
          log,
          rate: pacedRate,
          rounds: pacedRounds,
          durationS,
          warmupS,
          completed,
        })
      : []

  const cost =
    costRate > 0
      ? await runCost({ proxies, log, rate: costRate, rounds: costRounds, durationS, warmupS, completed })
      : []

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
    const replaced = completedLedgers.filter((c) => c.name === name).length
    if (replaced > 0)
      notes.push(
        `${name}: ${replaced} earlier processes replaced by --fresh; the ledger figures below are the last one's`,
      )
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

  const targetsResult = targetTable(rows, paced, cost)
  const markdown = [
    `# Aegis gate benchmark — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine}.`,
    `Each scenario: ${warmupS} s warm-up, then ${durationS} s measured with \`wrk -t2 --latency\`; keep-alive ` +
      'throughout; for each body and connection count the targets run back to back' +
      (rounds > 1
        ? `, ${rounds} rounds taking turns (every other round in reverse order); each row is the ` +
          "target's median round by req/s, and the " +
          'configuration table also gives the ratio round by round' +
          (fresh ? '; every gate was restarted before each round (--fresh)' : '')
        : '') +
      '. Upstream: Node HTTPS ' +
      'on 127.0.0.1 (`/small` = 61-byte JSON, `/16k` = 16 KiB JSON; `post1k` = POST of a 1 KiB JSON body to ' +
      '`/small`). `direct` = wrk → upstream over TLS; `baseline` = wrk → minimal undici proxy → upstream; ' +
      '`gate` = wrk → Aegis gate (vault credential injected, outbound inspection off, response redaction on, ' +
      'SQLite ledger on) → upstream; `gate+auth+policy` = the same with `requireAgentAuth`, the agent token ' +
      'in `X-Aegis-Agent` and a 20-rule policy file in enforce mode (the 20th rule allows the bench path); ' +
      '`gate+inspect` = the bench credential with `bodyInspection: block` and 1,000 more credentials in the ' +
      'vault, so inspection and redaction match against 1,001 secrets; `gate+metrics` = the plain gate with ' +
      '@aegis/telemetry counting every request and `/_aegis/metrics` scraped once a second (metrics are off ' +
      'in the other gates).',
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
    ...(paced.length === 0
      ? []
      : [
          `## Latency at a fixed rate (${int(pacedRate)} req/s, 16 connections)`,
          '',
          `The same wrk, paced: each thread sends on a fixed schedule (${int(pacedRate)} req/s in all) ` +
            'instead of as fast as it can, so the figures are the time a request spends in each proxy, not ' +
            'time queued behind others. For each body the targets take turns, ' +
            `${pacedRounds} rounds of ${durationS} s each after a ${warmupS} s warm-up; p99 is the median ` +
            'of the rounds, with their range.',
          '',
          pacedTable(paced),
          '',
        ]),
    ...(cost.length === 0
      ? []
      : [
          `## CPU per request at a fixed rate (${int(costRate)} req/s, 16 connections)`,
          '',
          `${COST_NOTE} ${costRounds} rounds of ${durationS} s each after a ${warmupS} s warm-up.`,
          '',
          costTable(cost),
          '',
        ]),
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

/** Consecutive scenarios of the same body and connection count, in plan order. */
function scenarioGroups(plan) {
  const groups = []
  for (const scenario of plan) {
    const last = groups.at(-1)
    if (last && last[0].body === scenario.body && last[0].connections === scenario.connections) {
      last.push(scenario)
    } else groups.push([scenario])
  }
  return groups
}

/**
 * The round with the median req/s (the lower middle for an even count), with `rounds`: every
 * round's req/s and CPU in round order, so two targets of the same group can be compared round by
 * round.
 */
function medianRound(runs) {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps)
  return {
    ...sorted[(sorted.length - 1) >> 1],
    rounds: runs.map((r) => ({ rps: r.rps, cpu: r.cpu, loopCpu: r.loopCpu })),
  }
}

/** The targets of the paced phase, in the order they take turns. */
const PACED_TARGETS = ['direct', 'baseline', 'gate']

/**
 * Latency below saturation: for each GET body at 16 connections, direct, the minimal proxy and the
 * plain gate are offered the same fixed rate and take turns for `rounds` rounds (a burst of
 * background load then hits all three). Resolves with one row per (body, target): the median of
 * the rounds' percentiles and the range of their p99. Responses are added to `completed`.
 */
async function runPaced({ proxies, upstream, log, rate, rounds, durationS, warmupS, completed }) {
  const targets = PACED_TARGETS.filter((t) => t === 'direct' || proxies.has(t))
  const rows = []
  for (const body of BODIES) {
    const options = (target) => {
      const proxy = proxies.get(target) ?? null
      return {
        url: urlFor(target, proxy ? proxy.info.port : upstream.info.port, body),
        connections: 16,
        rate,
        request: REQUESTS[body].request,
        agentToken: proxy?.agentToken ?? null,
      }
    }
    const runs = new Map(targets.map((t) => [t, []]))
    const count = (target, run) => completed.set(target, (completed.get(target) ?? 0) + run.requests)
    for (const target of targets) {
      log(`bench: paced ${rate} req/s, ${body}, ${target}: ${warmupS} s warm-up`)
      count(target, await runWrk({ ...options(target), durationS: warmupS }))
    }
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const run = await runWrk({ ...options(target), durationS })
        count(target, run)
        runs.get(target).push(run)
        log(`       round ${round} ${target}: ${Math.round(run.rps)} req/s, p99 ${run.p99.toFixed(2)} ms`)
      }
    }
    for (const [target, list] of runs) {
      const p99s = list.map((r) => r.p99)
      rows.push({
        body,
        target,
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(p99s),
        p99Range: [Math.min(...p99s), Math.max(...p99s)],
        p999: median(list.map((r) => r.p999)),
        max: Math.max(...list.map((r) => r.max)),
        errors: list.reduce((n, r) => n + errorCount(r.errors), 0),
      })
    }
  }
  return rows
}

/**
 * What each gate configuration costs: for each GET body at 16 connections, the plain gate and every
 * other configuration are offered the same fixed rate and take turns for `rounds` rounds (every
 * other round in reverse order); each round measures the CPU the gate process, and its event loop,
 * used per request. Resolves with one `costRow` per (body, configuration); responses are added to
 * `completed`.
 */
async function runCost({ proxies, log, rate, rounds, durationS, warmupS, completed }) {
  const gate = proxies.get('gate')
  const targets = [...proxies.keys()].filter((t) => isGate(t) && t !== 'gate')
  if (gate === undefined || targets.length === 0) return []
  const order = ['gate', ...targets]
  const rows = []
  for (const body of BODIES) {
    const options = (target) => ({
      url: urlFor(target, proxies.get(target).info.port, body),
      connections: 16,
      rate,
      request: REQUESTS[body].request,
      agentToken: proxies.get(target).agentToken ?? null,
    })
    const runs = new Map(order.map((t) => [t, []]))
    const errors = new Map(order.map((t) => [t, 0]))
    const count = (target, run) => {
      completed.set(target, (completed.get(target) ?? 0) + run.requests)
      errors.set(target, errors.get(target) + errorCount(run.errors))
    }
    for (const target of order) {
      log(`bench: fixed rate ${rate} req/s, ${body}, ${target}: ${warmupS} s warm-up`)
      count(target, await runWrk({ ...options(target), durationS: warmupS }))
    }
    for (let round = 1; round <= rounds; round++) {
      for (const target of round % 2 === 1 ? order : [...order].reverse()) {
        const pid = proxies.get(target).pid
        const whole = cpuMeter([pid])
        const loop = cpuMeter([pid], { thread: true })
        const run = await runWrk({ ...options(target), durationS })
        const sample = { rps: run.rps, cpu: whole(), loopCpu: loop()[0] }
        count(target, run)
        runs.get(target).push(sample)
        const us = (sample.cpu[0] / run.rps) * 1e6
        log(`       round ${round} ${target}: ${Math.round(run.rps)} req/s, ${us.toFixed(1)} µs CPU/request`)
      }
    }
    for (const target of targets) {
      rows.push(
        costRow({
          body,
          target,
          rate,
          rounds: runs.get(target),
          gateRounds: runs.get('gate'),
          errors: errors.get(target),
        }),
      )
    }
  }
  return rows
}
