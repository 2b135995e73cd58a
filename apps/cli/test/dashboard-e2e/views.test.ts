/**
 * The six views with the data of the scripted run (see fixture.ts), in a real Chromium: each shows
 * the names, codes and counts the run produced, and a screenshot of each is saved under
 * apps/cli/test-output/dashboard/. Assertions are on content, never on pixels.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newPage } from './browser.js'
import { apiGet, openSession } from './http.js'
import { useDashboard } from './setup.js'
import { byTestId, loginWithUserToken, screenshot } from './ui.js'

const e2e = useDashboard({ scripted: true })
let page: Page
let close: () => Promise<void>
/** Console errors and uncaught exceptions of the page (a CSP violation is logged as an error). */
const consoleErrors: string[] = []
/** Every response the browser got from the dashboard, with its headers. */
const responses: { url: string; status: number; headers: Record<string, string> }[] = []
beforeAll(async () => {
  if (!e2e.ready) return
  const opened = await newPage(e2e.browser)
  page = opened.page
  close = () => opened.context.close()
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
  page.on('pageerror', (e) => consoleErrors.push(String(e)))
  page.on('response', (r) => {
    if (r.url().startsWith(e2e.dash.url))
      responses.push({ url: r.url(), status: r.status(), headers: r.headers() })
  })
  await loginWithUserToken(page, e2e.dash.url, e2e.dash.users.admin)
})
afterAll(async () => {
  await close?.()
})

/** Every secret the template stored: none may appear on any page. */
const SECRETS = [
  'ghp_e2e_dashboard_secret_0123456789',
  'xoxb-e2e-dashboard-secret-0123456789',
  'sk-e2e-dashboard-internal-0123456789',
]

async function open(path: string, nav: string): Promise<void> {
  // Through the navigation, as a user would (an SPA route change, not a reload).
  await byTestId(page, nav).click()
  await page.waitForURL((u) => u.pathname === path, { timeout: 5000 })
}

async function noSecretsOrTokens(): Promise<void> {
  const html = await page.content()
  for (const secret of SECRETS) expect(html).not.toContain(secret)
  for (const token of [...Object.values(e2e.dash.users), ...Object.values(e2e.dash.agents)]) {
    expect(html).not.toContain(token)
  }
}

const texts = async (selector: string) => page.locator(selector).allTextContents()

describe('Overview', () => {
  it('shows the gate running, the request and block rates, p95, the expiring credential and both charts', async () => {
    const session = await openSession(e2e.dash.port, e2e.dash.users.admin)
    const api = await apiGet<{
      gate: { mode: string; reachable: boolean; sealed: boolean; status: string; vault: string }
      window: { requests: number; blocked: number; failed: number; blockRate: number; p95Ms: number | null }
      topBlocked: { code: string; count: number }[]
      expiring: { name: string; daysLeft: number }[] | null
      timeline: { buckets: { allowed: number; blocked: number; failed: number }[] }
    }>(e2e.dash.port, session, '/api/overview')
    expect(api.status).toBe(200)
    const { expected } = e2e
    expect(api.body.gate).toMatchObject({
      mode: 'embedded',
      reachable: true,
      sealed: false,
      status: 'ok',
      vault: 'default',
    })
    expect(api.body.window).toMatchObject({
      requests: expected.total,
      blocked: expected.blocked,
      failed: expected.failed,
      blockRate: expected.blocked / expected.total,
    })
    expect(api.body.window.p95Ms).toEqual(expect.any(Number))
    // Blocked only (the failed request is not a refusal), count descending; the two 2s in any order.
    expect(api.body.topBlocked).toHaveLength(4)
    expect(api.body.topBlocked[0]).toEqual({ code: 'domain_denied', count: 3 })
    expect(new Set(api.body.topBlocked.slice(1, 3).map((b) => `${b.code}:${b.count}`))).toEqual(
      new Set(['rate_limited:2', 'service_not_found:2']),
    )
    expect(api.body.topBlocked[3]).toEqual({ code: 'agent_auth_invalid', count: 1 })
    expect(api.body.expiring?.map((c) => c.name)).toEqual(['slack-bot'])
    const totals = api.body.timeline.buckets.reduce(
      (t, b) => ({
        allowed: t.allowed + b.allowed,
        blocked: t.blocked + b.blocked,
        failed: t.failed + b.failed,
      }),
      { allowed: 0, blocked: 0, failed: 0 },
    )
    expect(totals).toEqual({ allowed: expected.allowed, blocked: expected.blocked, failed: expected.failed })

    await open('/', 'nav-overview')
    await expect.poll(() => byTestId(page, 'overview-gate-status').textContent()).toBe('running')
    await expect.poll(() => byTestId(page, 'overview-block-rate').textContent()).toMatch(/\b50(\.0+)?\s*%/)
    expect(await byTestId(page, 'overview-req-rate').textContent()).toMatch(/0\.05/)
    expect(await byTestId(page, 'overview-p95').textContent()).toMatch(/^\d+(\.\d)? m?s$/)
    const expiring = await texts('[data-testid="expiring-item"]')
    expect(expiring).toHaveLength(1)
    expect(expiring[0]).toContain('slack-bot')
    expect(expiring[0]).toMatch(/\b[23]\s*d/)
    expect(await byTestId(page, 'chart-timeline').evaluate((el) => el.tagName.toLowerCase())).toBe('svg')
    const topBlocked = (await byTestId(page, 'chart-top-blocked').textContent()) ?? ''
    for (const code of ['domain_denied', 'rate_limited', 'service_not_found', 'agent_auth_invalid']) {
      expect(topBlocked).toContain(code)
    }
    expect(topBlocked).not.toContain('upstream_unreachable')
    await noSecretsOrTokens()
    await screenshot(page, 'overview')
  })
})

describe('Request Feed', () => {
  it('lists every request of the run, newest first, with decision badges, codes and statuses', async () => {
    await open('/feed', 'nav-feed')
    await expect.poll(() => byTestId(page, 'feed-live').textContent()).toBe('live')
    await expect.poll(() => page.locator('[data-testid="feed-row"]').count()).toBe(e2e.expected.total)
    const badges = await texts('[data-testid="feed-row"] [data-testid="decision-badge"]')
    const count = (d: string) => badges.filter((b) => b.trim() === d).length
    expect({ allowed: count('allowed'), blocked: count('blocked'), failed: count('failed') }).toEqual({
      allowed: e2e.expected.allowed,
      blocked: e2e.expected.blocked,
      failed: e2e.expected.failed,
    })
    // Newest first: the last request of the run (ci-bot's call to the upstream that is down).
    const first = page.locator('[data-testid="feed-row"]').first()
    const firstText = (await first.textContent()) ?? ''
    for (const part of ['ci-bot', 'internal', '/health', 'upstream_unreachable', '502', 'failed']) {
      expect(firstText).toContain(part)
    }
    const all = (await texts('[data-testid="feed-row"]')).join('\n')
    for (const [code, n] of Object.entries(e2e.expected.codes)) {
      expect(all.split(code).length - 1, code).toBe(n)
    }
    // Paths are shown without their query.
    expect(all).toContain('/repos/acme/widgets')
    expect(all).not.toContain('not-in-the-ledger')
    // Ids ascend from the bottom up.
    const ids = await page
      .locator('[data-testid="feed-row"]')
      .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))))
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
    await noSecretsOrTokens()
    await screenshot(page, 'feed')
  })

  it('opens a drawer with the full entry, including its requestId', async () => {
    const session = await openSession(e2e.dash.port, e2e.dash.users.admin)
    const newest = await apiGet<{ items: { id: number; requestId: string; code: string }[] }>(
      e2e.dash.port,
      session,
      '/api/requests?limit=1',
    )
    const entry = newest.body.items[0]
    expect(entry?.code).toBe('upstream_unreachable')
    await page.locator(`[data-testid="feed-row"][data-id="${entry?.id}"]`).click()
    const drawer = byTestId(page, 'feed-drawer')
    await drawer.waitFor({ timeout: 5000 })
    const text = (await drawer.textContent()) ?? ''
    expect(text).toContain(entry?.requestId as string)
    expect(text).toContain('upstream_unreachable')
    expect(text).toContain('down.example.test')
    await screenshot(page, 'feed-drawer')
    await byTestId(page, 'drawer-close').click()
    await drawer.waitFor({ state: 'detached' })
  })
})

describe('Credentials', () => {
  it('lists the three credentials with their services and the expiry, never a secret', async () => {
    await open('/credentials', 'nav-credentials')
    await expect.poll(() => page.locator('[data-testid="credential-row"]').count()).toBe(3)
    const credential = (name: string) => page.locator(`[data-testid="credential-row"][data-name="${name}"]`)
    for (const { name, service } of [
      { name: 'gh', service: 'github' },
      { name: 'slack-bot', service: 'slack' },
      { name: 'internal-api', service: 'internal' },
    ]) {
      expect(await credential(name).textContent(), name).toContain(service)
    }
    expect(await credential('internal-api').textContent()).toContain('down.example.test')
    expect(await credential('slack-bot').textContent()).toMatch(/in [23] d/)
    expect(await credential('gh').textContent()).toContain('read')
    // An admin holds vault:write: one remove button per row.
    expect(await byTestId(page, 'credential-remove').count()).toBe(3)
    await noSecretsOrTokens()
    await screenshot(page, 'credentials')
  })
})

describe('Agents', () => {
  it('lists the agents with their grants and the rate limit, never a token', async () => {
    await open('/agents', 'nav-agents')
    await expect.poll(() => page.locator('[data-testid="agent-row"]').count()).toBe(3)
    const agent = (name: string) => page.locator(`[data-testid="agent-row"][data-name="${name}"]`)
    const grants = async (name: string) =>
      (await agent(name).locator('[data-testid="agent-grant"]').allTextContents()).map((g) =>
        g.replace('×', '').trim(),
      )
    expect(await grants('research-bot')).toEqual(['gh', 'slack-bot'])
    expect(await grants('noisy-bot')).toEqual(['gh'])
    expect((await grants('ci-bot')).sort()).toEqual(['gh', 'internal-api'])
    expect(await agent('noisy-bot').textContent()).toContain('2/min')
    expect(await agent('research-bot').textContent()).not.toContain('/min')
    // An admin holds agent:write: a revoke button per grant, a remove button per agent.
    expect(await byTestId(page, 'agent-revoke').count()).toBe(5)
    expect(await byTestId(page, 'agent-remove').count()).toBe(3)
    await noSecretsOrTokens()
    await screenshot(page, 'agents')
  })
})

describe('Users', () => {
  it('lists the three users with their roles, never a token', async () => {
    await open('/users', 'nav-users')
    await expect.poll(() => page.locator('[data-testid="user-row"]').count()).toBe(3)
    for (const [name, role] of [
      ['alice', 'admin'],
      ['oscar', 'operator'],
      ['vera', 'viewer'],
    ] as const) {
      const role_ = page.locator(
        `[data-testid="user-row"][data-name="${name}"] [data-testid="user-role-text"]`,
      )
      expect(await role_.textContent(), name).toBe(role)
    }
    expect(await byTestId(page, 'user-remove').count()).toBeGreaterThanOrEqual(1)
    expect(await byTestId(page, 'user-role').count()).toBeGreaterThanOrEqual(1)
    await noSecretsOrTokens()
    await screenshot(page, 'users')
  })
})

describe('Blocked Requests', () => {
  it('groups the refusals by code and agent with counts, largest first, and draws the codes', async () => {
    await open('/blocked', 'nav-blocked')
    await expect
      .poll(() => page.locator('[data-testid="blocked-row"]').count())
      .toBe(e2e.expected.blockedGroups.length)
    // Cells: code, agent, count, last seen.
    const rows: string[][] = []
    for (const tr of await page.locator('[data-testid="blocked-row"]').all()) {
      rows.push((await tr.locator('td').allTextContents()).map((t) => t.trim()))
    }
    const shown = rows.map(([code, agent, count]) => ({ code, agent, count: Number(count) }))
    expect(shown[0]).toEqual({ code: 'domain_denied', agent: 'research-bot', count: 3 })
    expect(shown).toEqual(
      expect.arrayContaining(
        e2e.expected.blockedGroups.map((g) => ({
          code: g.code,
          agent: g.agent ?? 'unknown agent',
          count: g.count,
        })),
      ),
    )
    expect(shown.map((r) => r.count)).toEqual([...shown.map((r) => r.count)].sort((a, b) => b - a))
    expect(rows.flat().join('\n')).not.toContain('upstream_unreachable')
    const chart = (await byTestId(page, 'chart-blocked-codes').textContent()) ?? ''
    expect(chart).toContain('domain_denied')
    await screenshot(page, 'blocked')
  })
})

describe('an operator', () => {
  it('sees Agents with their write buttons but no Users and no credential removal', async () => {
    const opened = await newPage(e2e.browser)
    try {
      const p = opened.page
      await loginWithUserToken(p, e2e.dash.url, e2e.dash.users.operator)
      await expect.poll(() => byTestId(p, 'whoami').textContent()).toContain('operator')
      expect(await byTestId(p, 'nav-users').count()).toBe(0)
      await byTestId(p, 'nav-credentials').click()
      await expect.poll(() => p.locator('[data-testid="credential-row"]').count()).toBe(3)
      expect(await byTestId(p, 'credential-remove').count()).toBe(0)
      await byTestId(p, 'nav-agents').click()
      await expect.poll(() => p.locator('[data-testid="agent-row"]').count()).toBe(3)
      expect(await byTestId(p, 'agent-remove').count()).toBe(3)
    } finally {
      await opened.context.close()
    }
  })
})

describe('in the browser, across all six views', () => {
  it('nothing was refused by the CSP and no script failed', () => {
    expect(consoleErrors).toEqual([])
  })

  it('every response carries the security headers, no CORS header, and the API no-store', () => {
    const CSP =
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    expect(responses.length).toBeGreaterThan(10)
    const paths = new Set(responses.map((r) => new URL(r.url).pathname))
    for (const path of [
      '/login',
      '/api/session',
      '/api/me',
      '/api/overview',
      '/api/requests',
      '/api/users',
    ]) {
      expect(paths, path).toContain(path)
    }
    for (const r of responses) {
      const { pathname } = new URL(r.url)
      expect({ pathname, csp: r.headers['content-security-policy'] }).toEqual({ pathname, csp: CSP })
      expect(r.headers['x-content-type-options'], pathname).toBe('nosniff')
      expect(r.headers['referrer-policy'], pathname).toBe('no-referrer')
      expect(r.headers['x-frame-options'], pathname).toBe('DENY')
      expect(
        Object.keys(r.headers).filter((h) => h.startsWith('access-control-')),
        pathname,
      ).toEqual([])
      if (pathname.startsWith('/api/')) {
        expect(r.headers['cache-control'], pathname).toBe('no-store')
        if (r.status !== 204)
          expect(r.headers['content-type'], pathname).toBe('application/json; charset=utf-8')
      }
      if (pathname.startsWith('/assets/')) {
        expect(r.headers['cache-control'], pathname).toBe('public, max-age=31536000, immutable')
      }
    }
  })
})
