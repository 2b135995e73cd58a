import { spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../../proxy/test/fixtures/client.js'
import { type MetricsWorld, proxyCall, startMetricsWorld } from './fixtures/world.js'
import { parseExposition, series } from './series.js'

/** Where promtool is, or null. CI installs it (Debian `prometheus`, see .ci/run). */
function findPromtool(): string | null {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' })
  return found.status === 0 ? 'promtool' : null
}
const promtool = findPromtool()
if (promtool === null) {
  const where = process.env.CI === 'true' ? 'in CI, where .ci/run installs it: failing' : 'skipping'
  console.warn(
    `\n!!! promtool not found (apt-get install prometheus): ${where} the promtool lint of the exposition\n`,
  )
}

/** Polls until both doors have no request in flight (an outcome is recorded after the answer). */
async function settled(world: MetricsWorld): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const gate = series(parseExposition(await world.gateMetrics.render()), 'aegis_inflight_requests')
    const mcp = series(parseExposition(await world.mcpMetrics.render()), 'aegis_inflight_requests')
    if (gate[''] === 0 && mcp[''] === 0) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('requests still in flight')
}

describe('a scripted run over HTTP and MCP', () => {
  let world: MetricsWorld
  let gateText: string
  let gateContentType: string | undefined
  let mcpText: string

  beforeAll(async () => {
    world = await startMetricsWorld()
    world.add({ name: 'svc', service: 'svc', secret: 'svc-secret-value-0123456789', scopes: ['read'] })
    world.add({ name: 'slow', service: 'slow', secret: 'slow-secret-value-0123456789', rateLimit: '1/min' })
    const port = world.gatePort
    // Allowed, and blocked with several codes, over HTTP.
    expect((await send(port, '/svc/ok')).status).toBe(200)
    expect((await send(port, '/svc/ok')).status).toBe(200)
    expect((await send(port, '/svc/x', { method: 'POST', body: '{}' })).status).toBe(403) // scope_denied
    expect((await send(port, '/nosuch/x')).status).toBe(404) // service_not_found
    expect((await send(port, '/slow/a')).status).toBe(200)
    expect((await send(port, '/slow/b')).status).toBe(429) // rate_limited, the credential's budget
    expect((await send(port, '/svc/x', { headers: { 'x-target-host': 'evil.test' } })).status).toBe(403)
    expect((await send(port, '/svc/x', { method: 'BREW' })).status).toBe(400) // parser: bad_request
    expect((await send(port, '/_aegis/unknown')).status).toBe(404) // the gate's own: not counted
    // The same over MCP.
    expect((await proxyCall(world.client, { service: 'svc', path: '/ok' })).isError).toBeFalsy()
    expect((await proxyCall(world.client, { service: 'nosuch', path: '/x' })).isError).toBe(true)
    expect((await proxyCall(world.client, { service: 'svc', path: '/x', method: 'DELETE' })).isError).toBe(
      true,
    )
    // Failed: the upstream is down.
    await world.upstream.close()
    expect((await send(port, '/svc/ok')).status).toBe(502)
    expect((await proxyCall(world.client, { service: 'svc', path: '/ok' })).isError).toBe(true)
    await settled(world)
    const scraped = await send(port, '/_aegis/metrics')
    expect(scraped.status).toBe(200)
    gateText = scraped.text
    gateContentType = scraped.headers['content-type'] as string | undefined
    mcpText = await world.mcpMetrics.render()
  })
  afterAll(() => world.close())

  it('serves the gate registry at /_aegis/metrics with its content type', () => {
    expect(gateContentType).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(gateText).toContain('# TYPE aegis_requests_total counter')
    expect(gateText).toContain('# TYPE nodejs_eventloop_lag_seconds gauge')
  })

  it('the gate counted exactly what the HTTP agent did', () => {
    const s = parseExposition(gateText)
    expect(series(s, 'aegis_requests_total')).toEqual({
      'code=ok,decision=allowed,method=GET,service=svc': 2,
      'code=scope_denied,decision=blocked,method=POST,service=svc': 1,
      'code=service_not_found,decision=blocked,method=GET,service=_unknown': 1,
      'code=ok,decision=allowed,method=GET,service=slow': 1,
      'code=rate_limited,decision=blocked,method=GET,service=slow': 1,
      'code=domain_denied,decision=blocked,method=GET,service=svc': 1,
      'code=bad_request,decision=blocked,method=OTHER,service=_unknown': 1,
      'code=upstream_unreachable,decision=failed,method=GET,service=svc': 1,
    })
    expect(series(s, 'aegis_rate_limited_total')).toEqual({
      'scope=agent': 0,
      'scope=credential': 1,
      'scope=policy': 0,
      'scope=gate': 0,
    })
    expect(series(s, 'aegis_upstream_responses_total')).toEqual({
      'service=slow,status_class=2xx': 1,
      'service=svc,status_class=2xx': 2,
    })
    expect(series(s, 'aegis_upstream_duration_seconds_count')).toEqual({
      'service=slow': 1,
      'service=svc': 2,
    })
    expect(series(s, 'aegis_request_duration_seconds_count')).toEqual({
      'decision=allowed,service=svc': 2,
      'decision=blocked,service=svc': 2,
      'decision=failed,service=svc': 1,
      'decision=allowed,service=slow': 1,
      'decision=blocked,service=slow': 1,
      'decision=blocked,service=_unknown': 2,
    })
    expect(series(s, 'aegis_credentials')).toEqual({
      'status=active': 2,
      'status=expiring_soon': 0,
      'status=expired': 0,
      'status=unavailable': 0,
    })
    expect(series(s, 'aegis_inflight_requests')).toEqual({ '': 0 })
    expect(series(s, 'aegis_ledger_write_errors_total')).toEqual({ '': 0 })
    expect(Object.keys(series(s, 'aegis_build_info'))).toEqual([
      `node_version=${process.version},version=0.0.0-test`,
    ])
  })

  it('the MCP server counted its tool calls from the same pipeline outcomes', () => {
    const s = parseExposition(mcpText)
    expect(series(s, 'aegis_requests_total')).toEqual({
      'code=ok,decision=allowed,method=GET,service=svc': 1,
      'code=service_not_found,decision=blocked,method=GET,service=_unknown': 1,
      'code=scope_denied,decision=blocked,method=DELETE,service=svc': 1,
      'code=upstream_unreachable,decision=failed,method=GET,service=svc': 1,
    })
    expect(series(s, 'aegis_upstream_responses_total')).toEqual({ 'service=svc,status_class=2xx': 1 })
  })

  it('no series names an unconfigured service or a raw path', () => {
    for (const text of [gateText, mcpText]) {
      expect(text).not.toContain('nosuch')
      expect(text).not.toContain('_aegis')
      expect(text).not.toContain('BREW')
    }
  })

  it.skipIf(promtool === null && process.env.CI !== 'true')(
    'promtool check metrics accepts both expositions',
    () => {
      expect(promtool, 'promtool must be installed in CI (.ci/run installs Debian prometheus)').not.toBeNull()
      for (const text of [gateText, mcpText]) {
        const checked = spawnSync(promtool as string, ['check', 'metrics'], { input: text, encoding: 'utf8' })
        expect(checked.stderr + checked.stdout).toBe('')
        expect(checked.status).toBe(0)
      }
    },
  )
})

describe('series follow the live snapshot', () => {
  let world: MetricsWorld
  beforeAll(async () => {
    world = await startMetricsWorld({ agentLabel: true })
  })
  afterAll(() => world.close())

  it('removing a credential or an agent through the vault removes its series from the served metrics', async () => {
    world.add({ name: 'gone', service: 'gone', secret: 'gone-secret-value-0123456789' })
    world.add({ name: 'kept', service: 'kept', secret: 'kept-secret-value-0123456789' })
    const agent = world.vault.addAgent({ name: 'bot' })
    world.vault.grant('bot', 'gone')
    world.vault.grant('bot', 'kept')
    world.refresh()
    const headers = { 'x-aegis-agent': agent.token }
    expect((await send(world.gatePort, '/gone/ok', { headers })).status).toBe(200)
    expect((await send(world.gatePort, '/kept/ok', { headers })).status).toBe(200)
    expect((await send(world.gatePort, '/kept/ok')).status).toBe(200)
    await settled(world)
    const before = (await send(world.gatePort, '/_aegis/metrics')).text
    expect(before).toContain('service="gone"')
    expect(before).toContain('agent="bot"')

    world.vault.remove('gone')
    world.vault.removeAgent('bot')
    world.refresh()
    const after = (await send(world.gatePort, '/_aegis/metrics')).text
    expect(after).not.toContain('service="gone"')
    expect(after).not.toContain('agent="bot"')
    expect(series(parseExposition(after), 'aegis_requests_total')).toEqual({
      'agent=_anonymous,code=ok,decision=allowed,method=GET,service=kept': 1,
    })
  })
})

describe('codes decided while the answer is delivered', () => {
  let world: MetricsWorld
  beforeAll(async () => {
    world = await startMetricsWorld()
    world.add({ name: 'svc', service: 'svc', secret: 'svc-secret-value-0123456789' })
  })
  afterAll(() => world.close())

  it('an agent that hangs up is counted under the code its ledger row has (client_closed), not "other"', async () => {
    // The agent sends its request and goes before the upstream (400 ms) answers.
    const socket = connect(world.gatePort, '127.0.0.1')
    socket.on('error', () => undefined)
    socket.write('GET /svc/slow/400 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await new Promise((r) => setTimeout(r, 150))
    socket.destroy()
    await new Promise((r) => setTimeout(r, 300))
    await settled(world)
    await world.ledger.flush()
    const [row] = world.ledger.query({ service: 'svc', limit: 1 })
    expect(row).toMatchObject({ decision: 'failed', code: 'client_closed' })
    const s = parseExposition((await send(world.gatePort, '/_aegis/metrics')).text)
    expect(series(s, 'aegis_requests_total')).toEqual({
      'code=client_closed,decision=failed,method=GET,service=svc': 1,
    })
  })

  it('an upstream status past 599 is counted as the 5xx it stands for (RFC 9110 §15), so every forwarded answer has its class', async () => {
    const classes = async () =>
      series(
        parseExposition((await send(world.gatePort, '/_aegis/metrics')).text),
        'aegis_upstream_responses_total',
      )
    await settled(world)
    const before = await classes()
    for (const status of [200, 503, 600, 999]) {
      expect((await send(world.gatePort, `/svc/status/${status}`)).status).toBe(status)
    }
    await settled(world)
    const after = await classes()
    const counted = (key: string) => (after[key] ?? 0) - (before[key] ?? 0)
    expect(counted('service=svc,status_class=2xx')).toBe(1)
    expect(counted('service=svc,status_class=5xx')).toBe(3)
    expect(Object.keys(after).every((key) => /status_class=[1-5]xx$/.test(key))).toBe(true)
  })
})
