import type { MetricsExposition, RequestObserver } from '@aegis/proxy'
import { describe, expect, it } from 'vitest'
import {
  createTelemetry,
  DROPPED_DEFAULT_METRICS,
  type ObservedRequest,
  type ObservedSnapshot,
  type Telemetry,
} from '../src/index.js'
import { parseExposition, series } from './series.js'

const DAY = 86_400_000

function snapshot(
  services: Array<string | { service: string; expiresAt: number | null }>,
  agents: string[] = [],
  unavailable: string[] = [],
): ObservedSnapshot {
  return {
    byService: new Map(
      services.map((s) => {
        const c = typeof s === 'string' ? { service: s, expiresAt: null } : s
        return [c.service, c]
      }),
    ),
    agentsByHash: new Map(agents.map((name, i) => [`hash${i}`, { name }])),
    unavailable: new Map(unavailable.map((s) => [s, {}])),
  }
}

function request(overrides: Partial<ObservedRequest>): ObservedRequest {
  return {
    service: 'svc',
    agent: null,
    method: 'GET',
    decision: 'allowed',
    code: null,
    durationSeconds: 0.003,
    rateLimit: null,
    upstream: { status: 200, seconds: 0.002, bytesIn: 10, bytesOut: 2000 },
    ...overrides,
  }
}

function run(t: Telemetry, record: ObservedRequest): void {
  t.requestStarted()
  t.requestEnded(record)
}

async function samples(t: Telemetry) {
  return parseExposition(await t.render())
}

describe('@aegis/telemetry', () => {
  it('fits the proxy contract: an observer and an exposition (checked by tsc)', () => {
    const t = createTelemetry({ version: '1.2.3' })
    const observer: RequestObserver = t
    const exposition: MetricsExposition = t
    expect(observer).toBe(exposition)
    expect(t.contentType).toBe('text/plain; version=0.0.4; charset=utf-8')
  })

  it('keeps a private registry per instance: two in one process neither collide nor share counts', async () => {
    const a = createTelemetry({ version: '1' })
    const b = createTelemetry({ version: '2' })
    a.snapshotChanged(snapshot(['svc']))
    b.snapshotChanged(snapshot(['svc']))
    run(a, request({}))
    run(a, request({}))
    run(b, request({}))
    expect(series(await samples(a), 'aegis_requests_total')).toEqual({
      'code=ok,decision=allowed,method=GET,service=svc': 2,
    })
    expect(series(await samples(b), 'aegis_requests_total')).toEqual({
      'code=ok,decision=allowed,method=GET,service=svc': 1,
    })
    expect(series(await samples(b), 'aegis_build_info')).toEqual({
      [`node_version=${process.version},version=2`]: 1,
    })
  })

  it('exposes the process and Node metrics, event-loop lag included, minus the _total gauges', async () => {
    const text = await createTelemetry({ version: '1' }).render()
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_active_handles',
    ]) {
      expect(text).toContain(`# TYPE ${name} `)
    }
    for (const name of DROPPED_DEFAULT_METRICS) expect(text).not.toContain(name)
    // Every gauge is free of the counter suffix (what promtool checks).
    for (const match of text.matchAll(/^# TYPE (\S+) gauge$/gm)) expect(match[1]).not.toMatch(/_total$/)
  })

  it('can leave the process metrics out', async () => {
    const text = await createTelemetry({ version: '1', processMetrics: false }).render()
    expect(text).not.toContain('nodejs_')
    expect(text).toContain('aegis_build_info')
  })

  it('counts every outcome by service, method, decision and code, with durations, bytes and status classes', async () => {
    const t = createTelemetry({ version: '1' })
    t.snapshotChanged(snapshot(['svc']))
    run(t, request({}))
    run(t, request({ method: 'POST', upstream: { status: 404, seconds: 0.2, bytesIn: 5000, bytesOut: 10 } }))
    run(t, request({ decision: 'blocked', code: 'scope_denied', upstream: null, method: 'DELETE' }))
    run(t, request({ decision: 'failed', code: 'upstream_unreachable', upstream: null }))
    run(t, request({ service: null, decision: 'blocked', code: 'service_not_found', upstream: null }))
    run(t, request({ decision: 'blocked', code: 'rate_limited', rateLimit: 'credential', upstream: null }))
    const s = await samples(t)
    expect(series(s, 'aegis_requests_total')).toEqual({
      'code=ok,decision=allowed,method=GET,service=svc': 1,
      'code=ok,decision=allowed,method=POST,service=svc': 1,
      'code=scope_denied,decision=blocked,method=DELETE,service=svc': 1,
      'code=rate_limited,decision=blocked,method=GET,service=svc': 1,
      'code=upstream_unreachable,decision=failed,method=GET,service=svc': 1,
      'code=service_not_found,decision=blocked,method=GET,service=_unknown': 1,
    })
    expect(series(s, 'aegis_upstream_responses_total')).toEqual({
      'service=svc,status_class=2xx': 1,
      'service=svc,status_class=4xx': 1,
    })
    expect(series(s, 'aegis_rate_limited_total')).toEqual({
      'scope=agent': 0,
      'scope=credential': 1,
      'scope=policy': 0,
      'scope=gate': 0,
    })
    expect(series(s, 'aegis_rate_limit_unavailable_total')['outcome=refused,scope=agent']).toBe(0)
    expect(series(s, 'aegis_request_duration_seconds_count')).toEqual({
      'decision=allowed,service=svc': 2,
      'decision=blocked,service=svc': 2,
      'decision=failed,service=svc': 1,
      'decision=blocked,service=_unknown': 1,
    })
    expect(series(s, 'aegis_upstream_duration_seconds_bucket')['le=0.25,service=svc']).toBe(2)
    expect(series(s, 'aegis_upstream_duration_seconds_bucket')['le=0.1,service=svc']).toBe(1)
    expect(series(s, 'aegis_request_bytes_bucket')['le=1024,service=svc']).toBe(1)
    expect(series(s, 'aegis_request_bytes_bucket')['le=16384,service=svc']).toBe(2)
    expect(series(s, 'aegis_response_bytes_sum')).toEqual({ 'service=svc': 2010 })
    expect(series(s, 'aegis_inflight_requests')).toEqual({ '': 0 })
  })

  it('counts requests in flight', async () => {
    const t = createTelemetry({ version: '1' })
    t.requestStarted()
    t.requestStarted()
    t.requestEnded(request({}))
    expect(series(await samples(t), 'aegis_inflight_requests')).toEqual({ '': 1 })
  })

  it('keeps label values bounded under 10,000 random service names, methods and codes', async () => {
    const t = createTelemetry({ version: '1', agentLabel: true })
    t.snapshotChanged(snapshot(['a', 'b', 'c'], ['bot']))
    const random = () =>
      Math.random()
        .toString(36)
        .slice(2, 2 + Math.ceil(Math.random() * 10))
    for (let i = 0; i < 10_000; i++) {
      const configured = i % 4 === 0 ? (['a', 'b', 'c'][i % 3] as string) : null
      run(
        t,
        request({
          // The service a record names is only ever a configured one; a stray name must still land in _unknown.
          service: configured ?? `svc-${random()}`,
          agent: i % 5 === 0 ? 'bot' : random(),
          method: i % 2 === 0 ? random().toUpperCase() : 'GET',
          decision: i % 3 === 0 ? 'blocked' : 'allowed',
          code: i % 3 === 0 ? (i % 6 === 0 ? random() : 'policy_denied') : null,
          upstream: i % 3 === 0 ? null : { status: 100 + (i % 600), seconds: 0.01, bytesIn: i, bytesOut: i },
        }),
      )
    }
    const s = await samples(t)
    const aegis = s.filter((x) => x.name.startsWith('aegis_'))
    const values = (label: string) =>
      new Set(aegis.flatMap((x) => (label in x.labels ? [x.labels[label]] : [])))
    expect(values('service')).toEqual(new Set(['a', 'b', 'c', '_unknown']))
    expect(
      [...values('method')].every((m) =>
        /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE|OTHER)$/.test(m as string),
      ),
    ).toBe(true)
    expect(values('code')).toEqual(new Set(['ok', 'policy_denied', 'other']))
    expect(values('agent')).toEqual(new Set(['bot', '_anonymous']))
    expect(values('status_class')).toEqual(new Set(['1xx', '2xx', '3xx', '4xx', '5xx']))
    // 4 services × (GET, OTHER) × 2 decisions × codes × 2 agents, at most; far from 10,000.
    expect(Object.keys(series(s, 'aegis_requests_total')).length).toBeLessThanOrEqual(4 * 2 * 3 * 2)
    expect(aegis.length).toBeLessThan(600)
    expect(
      series(s, 'aegis_requests_total')[
        'agent=_anonymous,code=ok,decision=allowed,method=GET,service=_unknown'
      ],
    ).toBeGreaterThan(0)
  })

  it('removes every series of a removed credential, and never brings them back', async () => {
    const t = createTelemetry({ version: '1' })
    t.snapshotChanged(snapshot(['keep', 'gone']))
    run(t, request({ service: 'gone' }))
    run(t, request({ service: 'gone', decision: 'blocked', code: 'scope_denied', upstream: null }))
    run(t, request({ service: 'keep' }))
    expect((await t.render()).includes('service="gone"')).toBe(true)
    // A request that started under the old snapshot ends after the removal.
    t.requestStarted()
    t.snapshotChanged(snapshot(['keep']))
    t.requestEnded(request({ service: 'gone' }))
    const text = await t.render()
    expect(text).not.toContain('service="gone"')
    expect(series(parseExposition(text), 'aegis_requests_total')).toEqual({
      'code=ok,decision=allowed,method=GET,service=keep': 1,
      'code=ok,decision=allowed,method=GET,service=_unknown': 1,
    })
  })

  it('labels agents only when enabled, registered names only, and drops a removed agent’s series', async () => {
    const off = createTelemetry({ version: '1' })
    off.snapshotChanged(snapshot(['svc'], ['bot']))
    run(off, request({ agent: 'bot' }))
    expect(await off.render()).not.toContain('agent=')

    const t = createTelemetry({ version: '1', agentLabel: true })
    t.snapshotChanged(snapshot(['svc'], ['bot', 'other']))
    run(t, request({ agent: 'bot' }))
    run(t, request({ agent: 'other' }))
    run(t, request({ agent: 'stranger' }))
    run(t, request({ agent: null }))
    expect(series(await samples(t), 'aegis_requests_total')).toEqual({
      'agent=bot,code=ok,decision=allowed,method=GET,service=svc': 1,
      'agent=other,code=ok,decision=allowed,method=GET,service=svc': 1,
      'agent=_anonymous,code=ok,decision=allowed,method=GET,service=svc': 2,
    })
    t.snapshotChanged(snapshot(['svc'], ['other']))
    run(t, request({ agent: 'bot' }))
    expect(series(await samples(t), 'aegis_requests_total')).toEqual({
      'agent=other,code=ok,decision=allowed,method=GET,service=svc': 1,
      'agent=_anonymous,code=ok,decision=allowed,method=GET,service=svc': 3,
    })
  })

  it('counts credentials by status when scraped', async () => {
    const t = createTelemetry({ version: '1', expiringSoonDays: 7 })
    const now = Date.now()
    t.snapshotChanged(
      snapshot(
        [
          'forever',
          { service: 'later', expiresAt: now + 30 * DAY },
          { service: 'soon', expiresAt: now + 2 * DAY },
          { service: 'past', expiresAt: now - DAY },
        ],
        [],
        ['broken'],
      ),
    )
    expect(series(await samples(t), 'aegis_credentials')).toEqual({
      'status=active': 2,
      'status=expiring_soon': 1,
      'status=expired': 1,
      'status=unavailable': 1,
    })
  })

  it('aegis_sealed: 0 until watched, then whether the vault is sealed at each scrape', async () => {
    const t = createTelemetry({ version: '1', processMetrics: false })
    expect(series(await samples(t), 'aegis_sealed')).toEqual({ '': 0 })
    let sealed = true
    t.watchSealed(() => sealed)
    expect(series(await samples(t), 'aegis_sealed')).toEqual({ '': 1 })
    sealed = false
    expect(series(await samples(t), 'aegis_sealed')).toEqual({ '': 0 })
  })

  it('counts ledger write failures', async () => {
    const t = createTelemetry({ version: '1' })
    t.ledgerWriteFailed()
    expect(series(await samples(t), 'aegis_ledger_write_errors_total')).toEqual({ '': 1 })
  })

  it('reads an outbox depth a database answers asynchronously, keeping the last one while it cannot', async () => {
    const t = createTelemetry({ version: '1', processMetrics: false })
    let answer: () => Promise<number> = async () => 4
    t.watchWebhooks({ counters: { dropped: 0 }, queueDepth: () => answer() })
    expect(series(await samples(t), 'aegis_webhook_queue_depth')).toEqual({ '': 4 })
    answer = () => Promise.reject(new Error('PostgreSQL does not answer'))
    expect(series(await samples(t), 'aegis_webhook_queue_depth')).toEqual({ '': 4 })
    answer = async () => 1
    expect(series(await samples(t), 'aegis_webhook_queue_depth')).toEqual({ '': 1 })
  })

  it('counts webhook attempts by result, and reads the outbox depth and drops when scraped', async () => {
    const t = createTelemetry({ version: '1', processMetrics: false })
    expect(series(await samples(t), 'aegis_webhook_queue_depth')).toEqual({ '': 0 })
    t.webhookAttempted('succeeded')
    t.webhookAttempted('retry')
    t.webhookAttempted('retry')
    const outbox = {
      depth: 3,
      counters: { dropped: 0 },
      queueDepth() {
        return this.depth
      },
    }
    t.watchWebhooks(outbox)
    outbox.counters.dropped = 5
    const first = await samples(t)
    expect(series(first, 'aegis_webhook_deliveries_total')).toEqual({
      'result=succeeded': 1,
      'result=retry': 2,
      'result=dead': 0,
      'result=disabled': 0,
    })
    expect(series(first, 'aegis_webhook_queue_depth')).toEqual({ '': 3 })
    expect(series(first, 'aegis_webhook_dropped_total')).toEqual({ '': 5 })
    outbox.depth = 0
    outbox.counters.dropped = 7
    const second = await samples(t)
    expect(series(second, 'aegis_webhook_queue_depth')).toEqual({ '': 0 })
    expect(series(second, 'aegis_webhook_dropped_total')).toEqual({ '': 7 })
  })

  it('counts budgets the shared store could not check, by scope and what the request got', async () => {
    const t = createTelemetry({ version: '1' })
    t.rateLimitUnavailable('agent', false)
    t.rateLimitUnavailable('agent', false)
    t.rateLimitUnavailable('credential', true)
    t.rateLimitUnavailable('policy', true)
    const unavailable = series(await samples(t), 'aegis_rate_limit_unavailable_total')
    expect(unavailable['outcome=refused,scope=agent']).toBe(2)
    expect(unavailable['outcome=passed,scope=agent']).toBe(0)
    expect(unavailable['outcome=passed,scope=credential']).toBe(1)
    expect(unavailable['outcome=passed,scope=policy']).toBe(1)
    expect(unavailable['outcome=refused,scope=credential']).toBe(0)
    expect(Object.keys(unavailable)).toHaveLength(8)
  })
})
