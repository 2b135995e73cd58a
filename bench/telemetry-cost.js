#!/usr/bin/env node
// What metrics cost the gate per request, measured where the cost is: the observer calls the
// pipeline makes for every request, a scrape, and the process collectors (GC observer, event-loop
// monitor) under an allocation-heavy load. Throughput ratios between two gate processes on a shared
// 2-core machine swing ±20 % round to round; these figures are CPU time of the added code itself,
// to set against the gate's CPU per request (bench/run.js reports it).
//
// Usage: node bench/telemetry-cost.js [--requests 2000000] [--services 50] [--rounds 5]
// Needs the built packages (pnpm build).
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { importBuilt } from './lib/deps.js'

const { createTelemetry } = await importBuilt('telemetry')

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000000' },
    services: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '5' },
    child: { type: 'string' },
  },
})

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** A snapshot with `n` services and a few agents, as the proxy hands it over. */
function snapshot(n) {
  const byService = new Map()
  for (let i = 0; i < n; i++) byService.set(`svc${i}`, { service: `svc${i}`, expiresAt: null })
  const agentsByHash = new Map([['h1', { name: 'bot' }]])
  return { byService, agentsByHash, unavailable: new Map() }
}

/** The records a mixed workload produces: mostly allowed, some refused, a few failed. */
function records(services) {
  const out = []
  for (let i = 0; i < 64; i++) {
    const service = `svc${i % services}`
    if (i % 16 === 0)
      out.push({
        service: null,
        agent: null,
        method: 'GET',
        decision: 'blocked',
        code: 'service_not_found',
        durationSeconds: 0.0004,
        rateLimit: null,
        upstream: null,
      })
    else if (i % 31 === 0)
      out.push({
        service,
        agent: 'bot',
        method: 'POST',
        decision: 'failed',
        code: 'upstream_unreachable',
        durationSeconds: 0.2,
        rateLimit: null,
        upstream: null,
      })
    else
      out.push({
        service,
        agent: 'bot',
        method: i % 3 ? 'GET' : 'POST',
        decision: 'allowed',
        code: null,
        durationSeconds: 0.002 + i / 1e4,
        rateLimit: null,
        upstream: { status: 200, seconds: 0.0015, bytesIn: i * 10, bytesOut: 61 + i },
      })
  }
  return out
}

/** ns of CPU per request for requestStarted + requestEnded. */
function observerCost(requests, services) {
  const t = createTelemetry({ version: 'bench' })
  t.snapshotChanged(snapshot(services))
  const rs = records(services)
  for (let i = 0; i < 200_000; i++) {
    t.requestStarted()
    t.requestEnded(rs[i & 63])
  }
  const start = process.cpuUsage()
  for (let i = 0; i < requests; i++) {
    t.requestStarted()
    t.requestEnded(rs[i & 63])
  }
  const used = process.cpuUsage(start)
  return { ns: ((used.user + used.system) * 1000) / requests, telemetry: t }
}

/** ms of CPU for one scrape (render) of a registry that has seen every series. */
async function scrapeCost(t) {
  await t.render()
  const times = []
  for (let i = 0; i < 50; i++) {
    const start = process.cpuUsage()
    await t.render()
    const used = process.cpuUsage(start)
    times.push((used.user + used.system) / 1000)
  }
  return median(times)
}

/**
 * Child: an allocation-heavy loop (JSON round trips, like the gate's per-request objects) with or
 * without a telemetry instance (and its process collectors); prints CPU ms.
 */
function childRun(withTelemetry) {
  if (withTelemetry) createTelemetry({ version: 'bench' })
  const body = JSON.stringify({
    ok: true,
    auth: 'Bearer x'.repeat(4),
    items: Array.from({ length: 8 }, (_, i) => ({ i })),
  })
  const start = process.cpuUsage()
  let sink = 0
  for (let i = 0; i < 1_500_000; i++) sink += JSON.parse(body).items.length
  const used = process.cpuUsage(start)
  process.stdout.write(JSON.stringify({ ms: (used.user + used.system) / 1000, sink }))
}

if (values.child !== undefined) {
  childRun(values.child === 'on')
} else {
  const requests = Number(values.requests)
  const services = Number(values.services)
  const rounds = Number(values.rounds)
  const observer = []
  let telemetry
  for (let r = 0; r < rounds; r++) {
    const res = observerCost(requests, services)
    observer.push(res.ns)
    telemetry = res.telemetry
  }
  const scrape = await scrapeCost(telemetry)
  const self = fileURLToPath(import.meta.url)
  const on = []
  const off = []
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so drift on a shared machine falls on both sides.
    for (const mode of r % 2 ? ['on', 'off'] : ['off', 'on']) {
      const out = JSON.parse(execFileSync(process.execPath, [self, '--child', mode], { encoding: 'utf8' }))
      ;(mode === 'on' ? on : off).push(out.ms)
    }
  }
  const collectors = (median(on) - median(off)) / median(off)
  console.log(
    `observer (requestStarted + requestEnded), ${services} services: ${median(observer).toFixed(0)} ns/request (rounds: ${observer.map((n) => n.toFixed(0)).join(', ')})`,
  )
  console.log(
    `scrape (render), every series filled: ${scrape.toFixed(2)} ms CPU; at one scrape per 15 s that is ${((scrape / 15_000) * 100).toFixed(4)} % of one core`,
  )
  console.log(
    `process collectors under an allocation-heavy loop: ${(collectors * 100).toFixed(1)} % CPU (median on ${median(on).toFixed(0)} ms vs off ${median(off).toFixed(0)} ms; on ${on.map((n) => n.toFixed(0)).join(', ')}; off ${off.map((n) => n.toFixed(0)).join(', ')})`,
  )
}
