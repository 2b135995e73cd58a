import { cpus, release, totalmem } from 'node:os'

export const TARGETS = {
  throughputRatio: 0.75,
  addedP99Ms: 2,
  rssBytes: 120 * 1024 * 1024,
  /** Largest RSS rise allowed between the start and the end of the soak (GC noise). */
  soakGrowthBytes: 10 * 1024 * 1024,
  /** gate+auth+policy throughput ÷ gate throughput (within 10 %). */
  policyRatio: 0.9,
  /** gate+inspect throughput ÷ gate throughput on small bodies (within 15 %). */
  inspectRatio: 0.85,
  /** gate+metrics throughput ÷ gate throughput: metrics on within 5 % of off (issue 15). */
  metricsRatio: 0.95,
  /** gate+metrics CPU per request ÷ the plain gate's at a fixed rate, paired rounds: at most 5 % more (issue 15). */
  metricsCost: 1.05,
}

/** The ratio targets of the gate configurations: which rows, against the plain gate. */
const VARIANT_TARGETS = [
  { target: 'gate+auth+policy', bodies: ['small', '16k'], limit: TARGETS.policyRatio },
  { target: 'gate+inspect', bodies: ['small'], limit: TARGETS.inspectRatio },
  {
    target: 'gate+metrics',
    bodies: ['small', '16k'],
    limit: TARGETS.metricsRatio,
    costLimit: TARGETS.metricsCost,
  },
]

export const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1)
const ms = (value) => value.toFixed(2)
export const int = (value) => Math.round(value).toLocaleString('en-US')
const verdict = (ok) => (ok ? '**PASS**' : '**FAIL**')

/** A one-paragraph description of where the run happened. */
export function machineLine(wrk) {
  const cpu = cpus()
  return (
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `Linux ${release()}, Node ${process.version}, ${wrk}`
  )
}

/** wrk's error counts of a run, summed. */
export function errorCount(errors) {
  return errors.connect + errors.read + errors.write + errors.status + errors.timeout
}

/** The main table: one row per (body, connections, target). */
export function scenarioTable(rows) {
  const lines = [
    '| Body | Conns | Target | req/s | p50 ms | p99 ms | max ms | errors | CPU proxy / upstream | peak RSS | heap | TLS |',
    '|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|',
  ]
  for (const r of rows) {
    const cpu = r.cpu ? r.cpu.map((c) => (c === null ? '–' : c.toFixed(2))).join(' / ') : ''
    lines.push(
      `| ${r.body} | ${r.connections} | ${r.target} | ${int(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ` +
        `${ms(r.max)} | ${errorCount(r.errors)} | ${cpu} | ${r.peakRss ? `${mb(r.peakRss)} MB` : ''} | ` +
        `${r.memory ? `${mb(r.memory.heapUsed)} / ${mb(r.memory.heapTotal)}` : ''} | ${r.handshakes ?? ''} |`,
    )
  }
  return lines.join('\n')
}

/**
 * The targets of the issue, each with its measured value and PASS/FAIL. The p99 target is judged
 * on the paced rows (a fixed rate below saturation) when the run has them; the p99 at saturation
 * is then listed for information only: there every proxy's latency is mostly queueing
 * (connections ÷ throughput), which the throughput target already measures.
 */
export function targetTable(rows, paced = [], cost = []) {
  const find = (target, body, connections) =>
    rows.find((r) => r.target === target && r.body === body && r.connections === connections)
  const lines = ['| Target | Scenario | Measured | Limit | Result |', '|---|---|---:|---:|---|']
  const results = []
  const bodies = [...new Set(rows.map((r) => r.body))]
  const conns = [...new Set(rows.map((r) => r.connections))]
  for (const body of bodies) {
    for (const c of conns) {
      const gate = find('gate', body, c)
      const base = find('baseline', body, c)
      if (!gate || !base) continue
      const ratio = gate.rps / base.rps
      const ok = ratio >= TARGETS.throughputRatio && errorCount(gate.errors) === 0
      results.push(ok)
      lines.push(
        `| gate/baseline throughput | ${body}, ${c} conns | ${ratio.toFixed(2)} | ≥ ${TARGETS.throughputRatio} | ${verdict(ok)} |`,
      )
    }
  }
  for (const body of bodies) {
    const gate = paced.find((r) => r.target === 'gate' && r.body === body)
    const direct = paced.find((r) => r.target === 'direct' && r.body === body)
    if (!gate || !direct) continue
    const added = gate.p99 - direct.p99
    const ok = added <= TARGETS.addedP99Ms && gate.errors === 0
    results.push(ok)
    lines.push(
      `| p99 added latency (gate − direct), paced | ${body}, 16 conns, ${int(direct.rps)} req/s | ${ms(added)} ms | ` +
        `≤ ${TARGETS.addedP99Ms} ms | ${verdict(ok)} |`,
    )
  }
  for (const body of bodies) {
    const gate = find('gate', body, 16)
    const direct = find('direct', body, 16)
    if (!gate || !direct) continue
    const added = gate.p99 - direct.p99
    if (paced.length > 0) {
      lines.push(
        `| p99 added latency (gate − direct), at saturation | ${body}, 16 conns | ${ms(added)} ms | – | information |`,
      )
      continue
    }
    const ok = added <= TARGETS.addedP99Ms
    results.push(ok)
    lines.push(
      `| p99 added latency (gate − direct) | ${body}, 16 conns | ${ms(added)} ms | ≤ ${TARGETS.addedP99Ms} ms | ${verdict(ok)} |`,
    )
  }
  const gateRows = rows.filter((r) => r.target === 'gate' && r.peakRss)
  if (gateRows.length > 0) {
    const peak = Math.max(...gateRows.map((r) => r.peakRss))
    const ok = peak <= TARGETS.rssBytes
    results.push(ok)
    lines.push(
      `| gate RSS under load (peak) | all gate scenarios | ${mb(peak)} MB | ≤ 120 MB | ${verdict(ok)} |`,
    )
  }
  for (const { target, bodies: measured, limit, costLimit } of VARIANT_TARGETS) {
    for (const body of measured) {
      // Judged on what the configuration costs when the phase ran: CPU per request at a fixed rate,
      // round by round against the plain gate (see COST_NOTE); its throughput at saturation is then
      // listed for information.
      const costed =
        costLimit === undefined ? undefined : cost.find((r) => r.target === target && r.body === body)
      if (costed !== undefined) {
        // A round without a figure (no request served) fails the target rather than being skipped.
        const ok = costed.ratio !== null && costed.ratio.median <= costLimit && costed.errors === 0
        results.push(ok)
        lines.push(
          `| ${target}/gate CPU per request at ${int(costed.rate)} req/s, ${paired(costed.ratio)} | ${body}, 16 conns | ` +
            `${spread(costed.ratio)} | ≤ ${costLimit} | ${verdict(ok)} |`,
        )
      }
      for (const c of conns) {
        const variant = find(target, body, c)
        const gate = find('gate', body, c)
        if (!variant || !gate) continue
        if (costed !== undefined) {
          const rps = pairedRatio(variant, gate, (r) => r.rps)
          lines.push(
            `| ${target}/gate throughput at saturation, ${paired(rps)} | ${body}, ${c} conns | ${spread(rps)} | ` +
              `(≥ ${limit}) | information |`,
          )
          continue
        }
        const ratio = variant.rps / gate.rps
        const ok = ratio >= limit && errorCount(variant.errors) === 0
        results.push(ok)
        lines.push(
          `| ${target}/gate throughput | ${body}, ${c} conns | ${ratio.toFixed(2)} | ≥ ${limit} | ${verdict(ok)} |`,
        )
      }
    }
  }
  lines.push('| no memory growth over 1 M requests | `node bench/run.js --soak` | see soak results | | — |')
  return { table: lines.join('\n'), passed: results.every(Boolean) }
}

/** The paced phase: per body, each target's median figures over the rounds. */
export function pacedTable(paced) {
  const lines = [
    '| Body | Target | req/s | p50 ms | p99 ms (range) | p99.9 ms | max ms | errors | p99 − direct | p99 − baseline |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of paced) {
    const direct = paced.find((d) => d.target === 'direct' && d.body === r.body)
    const base = paced.find((b) => b.target === 'baseline' && b.body === r.body)
    const minus = (other) => (other && other !== r ? `${ms(r.p99 - other.p99)} ms` : '')
    lines.push(
      `| ${r.body} | ${r.target} | ${int(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} (${ms(r.p99Range[0])}–${ms(r.p99Range[1])}) | ` +
        `${ms(r.p999)} | ${ms(r.max)} | ${r.errors} | ${minus(direct)} | ${minus(base)} |`,
    )
  }
  return lines.join('\n')
}

/** Informative: what the gate adds over the minimal proxy, per scenario. */
export function overheadTable(rows) {
  const lines = [
    '| Body | Conns | gate/baseline req/s | gate/direct req/s | p99 gate − baseline | p99 gate − direct |',
    '|---|---:|---:|---:|---:|---:|',
  ]
  for (const gate of rows.filter((r) => r.target === 'gate')) {
    const base = rows.find(
      (r) => r.target === 'baseline' && r.body === gate.body && r.connections === gate.connections,
    )
    const direct = rows.find(
      (r) => r.target === 'direct' && r.body === gate.body && r.connections === gate.connections,
    )
    if (!base || !direct) continue
    lines.push(
      `| ${gate.body} | ${gate.connections} | ${(gate.rps / base.rps).toFixed(2)} | ${(gate.rps / direct.rps).toFixed(2)} | ` +
        `${ms(gate.p99 - base.p99)} ms | ${ms(gate.p99 - direct.p99)} ms |`,
    )
  }
  return lines.join('\n')
}

/** CPU µs per request of `cores` at `rps` (null when unknown). */
function perRequestUs(cores, rps) {
  return typeof cores === 'number' && rps > 0 ? (cores / rps) * 1e6 : null
}

/** CPU time of the proxy process per request (every thread), µs. */
const processUs = (r) => perRequestUs(r.cpu?.[0], r.rps)
/** CPU time of the proxy's main thread (the event loop) per request, µs. */
const loopUs = (r) => perRequestUs(r.loopCpu, r.rps)

/** The median of a non-empty list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * `measure(row) ÷ measure(gate)` in each round the two took turns (one ratio for a single round),
 * with their median and range; null when a figure is missing. Pairing round by round cancels
 * whatever else the machine did in that minute, which a ratio of two medians does not.
 */
function pairedRatio(row, gate, measure) {
  const a = row.rounds ?? [row]
  const b = gate.rounds ?? [gate]
  if (a.length !== b.length) return null
  const ratios = []
  for (let i = 0; i < a.length; i++) {
    const x = measure(a[i])
    const y = measure(b[i])
    if (x === null || y === null || y === 0) return null
    ratios.push(x / y)
  }
  return { ratios, median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}

const paired = (ratio) =>
  ratio === null
    ? 'paired rounds'
    : ratio.ratios.length === 1
      ? 'one round'
      : `median of ${ratio.ratios.length} paired rounds`
const spread = (ratio) =>
  ratio === null
    ? '–'
    : ratio.ratios.length === 1
      ? ratio.median.toFixed(3)
      : `${ratio.median.toFixed(3)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`

/** `0.97, 1.01, 0.99`: the two rows' req/s ratio in each round they took turns (– for one round). */
function byRound(row, gate) {
  const ratio = pairedRatio(row, gate, (r) => r.rps)
  if (ratio === null || ratio.ratios.length < 2) return '–'
  return ratio.ratios.map((r) => r.toFixed(2)).join(', ')
}

/** What the fixed-rate phase measures, and why a configuration's overhead is judged on it. */
export const COST_NOTE =
  'Each gate configuration and the plain gate take turns at the same fixed rate (below saturation), round ' +
  'after round, every other round in reverse order; a row gives the CPU time of the gate process (every thread) ' +
  'and of its event loop per request served, the median over the rounds, and the ratio to the plain gate: ' +
  "the median of the ratios of the rounds, with their range. At saturation a round's req/s moves with the " +
  'share of the shared cores the scheduler gives the proxy, and the work per request with the batch sizes that ' +
  'throughput brings; at a fixed rate both proxies do the same work, and what one costs more per request is what ' +
  'its configuration adds. A configuration with a cost limit (`gate+metrics`) is judged on this ratio; its ' +
  'throughput at saturation is listed for information.'

/** The fixed-rate phase: per body, each configuration's CPU per request against the plain gate's. */
export function costTable(cost) {
  const lines = [
    '| Body | Configuration | req/s | CPU µs/request (gate) | event loop µs/request (gate) | ratio (process) | ratio (event loop) |',
    '|---|---|---:|---:|---:|---:|---:|',
  ]
  const us = (value) => (value === null ? '–' : value.toFixed(1))
  for (const r of cost) {
    lines.push(
      `| ${r.body} | ${r.target} | ${int(r.rps)} | ${us(r.processUs)} (${us(r.gateProcessUs)}) | ` +
        `${us(r.loopUs)} (${us(r.gateLoopUs)}) | ${spread(r.ratio)} | ${spread(r.loopRatio)} |`,
    )
  }
  return lines.join('\n')
}

/**
 * One row of the fixed-rate phase from the rounds of a configuration and of the plain gate (each
 * `{ rps, cpu: [cores], loopCpu }`, in round order).
 */
export function costRow({ body, target, rate, rounds, gateRounds, errors }) {
  const mid = (list, measure) => {
    const values = list.map(measure).filter((v) => v !== null)
    return values.length === 0 ? null : median(values)
  }
  return {
    body,
    target,
    rate,
    errors,
    rps: median(rounds.map((r) => r.rps)),
    processUs: mid(rounds, processUs),
    gateProcessUs: mid(gateRounds, processUs),
    loopUs: mid(rounds, loopUs),
    gateLoopUs: mid(gateRounds, loopUs),
    ratio: pairedRatio({ rounds }, { rounds: gateRounds }, processUs),
    loopRatio: pairedRatio({ rounds }, { rounds: gateRounds }, loopUs),
  }
}

/** Informative: each gate configuration against the plain gate in the same body and connections. */
export function variantTable(rows) {
  const lines = [
    '| Body | Conns | Configuration | req/s | gate req/s | ratio | ratio by round | p99 − gate p99 | CPU µs/request (gate) | event loop µs/request (gate) | peak RSS |',
    '|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|',
  ]
  const us = (value) => (value === null ? '–' : Math.round(value).toString())
  for (const row of rows.filter((r) => r.target.startsWith('gate+'))) {
    const gate = rows.find(
      (r) => r.target === 'gate' && r.body === row.body && r.connections === row.connections,
    )
    if (!gate) continue
    lines.push(
      `| ${row.body} | ${row.connections} | ${row.target} | ${int(row.rps)} | ${int(gate.rps)} | ` +
        `${(row.rps / gate.rps).toFixed(2)} | ${byRound(row, gate)} | ${ms(row.p99 - gate.p99)} ms | ` +
        `${us(processUs(row))} (${us(processUs(gate))}) | ${us(loopUs(row))} (${us(loopUs(gate))}) | ` +
        `${row.peakRss ? `${mb(row.peakRss)} MB` : ''} |`,
    )
  }
  return lines.join('\n')
}
