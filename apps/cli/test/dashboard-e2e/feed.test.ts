/**
 * The live Request Feed in a real Chromium: a request through the gate shows within a second of
 * its response, its badge follows the request to its end, pausing counts instead of inserting, the
 * DOM keeps at most 500 rows, and a reconnect loses nothing. Last, a write from the UI (it changes
 * this file's data, so it comes after the feed tests).
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newPage } from './browser.js'
import { REQUEST_TIMEOUT_MS } from './fixture.js'
import { gateGet } from './gate-client.js'
import { useDashboard } from './setup.js'
import { byTestId, loginWithUserToken, pageGet } from './ui.js'

// What the in-page functions below use of the browser (this package is typed for Node only).
declare const window: {
  __seen: Record<string, number>
  __watch: string[]
  __sockets: { close(): void }[]
  __blockWs: boolean
  WebSocket: new (url: string, protocols?: string | string[]) => { close(): void }
}
declare const document: {
  body: unknown
  querySelectorAll(selector: string): Iterable<{ textContent: string | null }>
}
declare const MutationObserver: new (
  callback: () => void,
) => { observe(target: unknown, options: Record<string, boolean>): void }

const e2e = useDashboard()
let page: Page
let close: () => Promise<void>
beforeAll(async () => {
  if (!e2e.ready) return
  const opened = await newPage(e2e.browser)
  page = opened.page
  close = () => opened.context.close()
  await loginWithUserToken(page, e2e.dash.url, e2e.dash.users.admin)
  await byTestId(page, 'nav-feed').click()
  await page.waitForURL((u) => u.pathname === '/feed')
  await page.locator('[data-testid="feed-live"]', { hasText: /^live$/ }).waitFor({ timeout: 5000 })
  // Records, in the page, when a row whose text contains a marker first appears (Date.now(): the
  // same clock as the test's), so the latency is measured without polling delays.
  await page.evaluate(() => {
    const w = window
    w.__seen = {}
    w.__watch = []
    const scan = () => {
      const rows = document.querySelectorAll('[data-testid="feed-row"]')
      for (const marker of w.__watch) {
        if (w.__seen[marker] !== undefined) continue
        for (const row of rows) {
          if (row.textContent?.includes(marker)) {
            w.__seen[marker] = Date.now()
            break
          }
        }
      }
    }
    new MutationObserver(scan).observe(document.body, { childList: true, subtree: true, characterData: true })
  })
})
afterAll(async () => {
  await close?.()
})

const watch = (marker: string) =>
  page.evaluate((m) => {
    window.__watch.push(m)
  }, marker)
const seenAt = (marker: string) => page.evaluate((m) => window.__seen[m] ?? null, marker)
const row = (marker: string) => page.locator('[data-testid="feed-row"]', { hasText: marker })
const as = (agent: string) => ({ 'X-Aegis-Agent': e2e.dash.agents[agent] as string })

describe('the live feed', () => {
  it('shows each request made through the gate within 1 s of its response, with its requestId in the drawer', async () => {
    // Five samples at uneven gaps, so a tail slower than the contract's 250 ms cannot pass by luck.
    const latencies: number[] = []
    let last: { marker: string; requestId: string | undefined } | undefined
    for (const gap of [0, 130, 370, 210, 290]) {
      await new Promise((r) => setTimeout(r, gap))
      const marker = `live-${latencies.length}-${Date.now().toString(36)}`
      await watch(marker)
      const reply = await gateGet(e2e.dash.gatePort, `/github/${marker}?q=hidden`, as('research-bot'))
      expect(reply.status).toBe(200)
      await expect.poll(() => seenAt(marker), { timeout: 3000, interval: 20 }).not.toBeNull()
      latencies.push(((await seenAt(marker)) as number) - reply.doneAt)
      last = { marker, requestId: reply.requestId }
    }
    expect(
      Math.max(...latencies),
      `rows appeared ${latencies.join(', ')} ms after the responses`,
    ).toBeLessThan(1000)

    const r = row(last?.marker as string)
    await expect.poll(() => r.locator('[data-testid="decision-badge"]').textContent()).toBe('allowed')
    await expect.poll(() => r.textContent()).toContain('200')
    const text = (await r.textContent()) ?? ''
    expect(text).toContain('research-bot')
    expect(text).toContain('github')
    expect(text).not.toContain('hidden')
    await r.click()
    const drawer = byTestId(page, 'feed-drawer')
    await drawer.waitFor({ timeout: 3000 })
    expect(await drawer.textContent()).toContain(last?.requestId as string)
    await byTestId(page, 'drawer-close').click()
    await drawer.waitFor({ state: 'detached' })
  })

  it('updates the decision badge when an in-flight request ends (allowed → failed on an upstream timeout)', async () => {
    // The upstream answers after 8 s; the gate gives up after REQUEST_TIMEOUT_MS (2.5 s).
    const marker = '/slow/8000'
    await watch(marker)
    const sent = Date.now()
    const pending = gateGet(e2e.dash.gatePort, `/github${marker}`, as('ci-bot'))
    await expect.poll(() => seenAt(marker), { timeout: REQUEST_TIMEOUT_MS, interval: 20 }).not.toBeNull()
    expect(
      ((await seenAt(marker)) as number) - sent,
      'in-flight row shown within 1 s of the request',
    ).toBeLessThan(1000)
    const badge = row(marker).locator('[data-testid="decision-badge"]')
    const inFlight = await badge.textContent()
    const reply = await pending
    expect(reply).toMatchObject({ status: 504, block: 'upstream_timeout' })
    expect(inFlight, 'the badge while the request was in flight').not.toBe('failed')
    await expect.poll(() => badge.textContent(), { timeout: 1000, interval: 20 }).toBe('failed')
    expect(Date.now() - reply.doneAt).toBeLessThan(1500)
    await expect.poll(() => row(marker).textContent()).toContain('upstream_timeout')
    expect(await row(marker).textContent()).toContain('504')
  })

  it('pauses with an "N new" counter and shows the held rows on resume', async () => {
    const pause = byTestId(page, 'feed-pause')
    await pause.click()
    await expect.poll(() => pause.textContent()).toMatch(/Resume/)
    const before = await page.locator('[data-testid="feed-row"]').count()
    const markers = [1, 2, 3].map((n) => `paused-${n}-${Date.now().toString(36)}`)
    for (const marker of markers) {
      expect((await gateGet(e2e.dash.gatePort, `/github/${marker}`, as('research-bot'))).status).toBe(200)
    }
    await expect.poll(() => byTestId(page, 'feed-new-count').textContent(), { timeout: 3000 }).toBe('3 new')
    expect(await page.locator('[data-testid="feed-row"]').count()).toBe(before)
    for (const marker of markers) expect(await row(marker).count()).toBe(0)

    await pause.click()
    await expect.poll(() => pause.textContent()).toMatch(/Pause/)
    for (const marker of markers) await expect.poll(() => row(marker).count()).toBe(1)
    expect(await page.locator('[data-testid="feed-row"]').count()).toBe(before + 3)
    expect(await byTestId(page, 'feed-new-count').count()).toBe(0)
  })

  it('filters by decision', async () => {
    expect((await gateGet(e2e.dash.gatePort, '/nowhere/filter-check', as('research-bot'))).block).toBe(
      'service_not_found',
    )
    await expect.poll(() => row('/filter-check').count()).toBeGreaterThanOrEqual(1)
    await byTestId(page, 'filter-decision').selectOption('blocked')
    await expect
      .poll(async () => [...new Set(await page.locator('[data-testid="decision-badge"]').allTextContents())])
      .toEqual(['blocked'])
    await byTestId(page, 'filter-decision').selectOption('')
  })

  it('keeps at most 500 rows in the DOM', async () => {
    // 520 requests, 8 at a time; the feed must cap its rows, newest kept.
    let next = 0
    const worker = async () => {
      for (let i = next++; i < 520; i = next++) {
        await gateGet(e2e.dash.gatePort, `/github/bulk-${i}`, as('research-bot'))
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    await expect.poll(() => row('bulk-519').count(), { timeout: 5000 }).toBe(1)
    await expect.poll(() => page.locator('[data-testid="feed-row"]').count()).toBe(500)
  }, 60_000)

  it('loses nothing across a reconnect: what happened while it was down is fetched with after=<lastId>', async () => {
    const opened = await newPage(e2e.browser)
    const p = opened.page
    try {
      // Test instrumentation in the page only: the SPA's sockets are recorded so the test can drop
      // one, and while __blockWs is set a new one goes to a path the server refuses (403).
      await p.addInitScript(() => {
        const Native = window.WebSocket
        window.__sockets = []
        window.__blockWs = false
        window.WebSocket = class extends Native {
          constructor(url: string, protocols?: string | string[]) {
            super(window.__blockWs ? url.replace(/\/ws$/, '/ws-blocked') : url, protocols)
            window.__sockets.push(this)
          }
        }
      })
      await loginWithUserToken(p, e2e.dash.url, e2e.dash.users.admin)
      await byTestId(p, 'nav-feed').click()
      const live = byTestId(p, 'feed-live')
      await expect.poll(() => live.textContent(), { timeout: 5000 }).toBe('live')

      await p.evaluate(() => {
        window.__blockWs = true
        for (const socket of window.__sockets) socket.close()
      })
      await expect.poll(() => live.textContent()).not.toBe('live')
      const markers = [1, 2, 3].map((n) => `while-down-${n}-${Date.now().toString(36)}`)
      for (const marker of markers) {
        expect((await gateGet(e2e.dash.gatePort, `/github/${marker}`, as('research-bot'))).status).toBe(200)
      }
      // Refused reconnects (with backoff) for a while, then the server is reachable again.
      await new Promise((r) => setTimeout(r, 700))
      expect(await live.textContent()).not.toBe('live')
      await p.evaluate(() => {
        window.__blockWs = false
      })
      await expect.poll(() => live.textContent(), { timeout: 12_000 }).toBe('live')
      const inFeed = (marker: string) => p.locator('[data-testid="feed-row"]', { hasText: marker }).count()
      for (const marker of markers) await expect.poll(() => inFeed(marker), { timeout: 3000 }).toBe(1)
      // And the new socket carries what comes next.
      const after = `after-reconnect-${Date.now().toString(36)}`
      expect((await gateGet(e2e.dash.gatePort, `/github/${after}`, as('research-bot'))).status).toBe(200)
      await expect.poll(() => inFeed(after), { timeout: 1000, interval: 20 }).toBe(1)
    } finally {
      await opened.context.close()
    }
  }, 30_000)
})

describe('writes from the UI', () => {
  it('asks first, then takes effect in the gate: revoking a grant refuses the next request', async () => {
    const opened = await newPage(e2e.browser)
    const p = opened.page
    try {
      expect((await gateGet(e2e.dash.gatePort, '/github/before-revoke', as('ci-bot'))).status).toBe(200)
      await loginWithUserToken(p, e2e.dash.url, e2e.dash.users.operator)
      await byTestId(p, 'nav-agents').click()
      const ciBot = p.locator('[data-testid="agent-row"][data-name="ci-bot"]')
      const ghGrant = ciBot.locator('[data-testid="agent-grant"]', { hasText: 'gh' })
      await ghGrant.locator('[data-testid="agent-revoke"]').click()
      const dialog = byTestId(p, 'confirm-dialog')
      await dialog.waitFor({ timeout: 3000 })
      expect(await dialog.textContent()).toContain('Revoke gh from ci-bot')
      // Cancelling changes nothing.
      await byTestId(p, 'confirm-cancel').click()
      await dialog.waitFor({ state: 'detached' })
      expect((await gateGet(e2e.dash.gatePort, '/github/still-granted', as('ci-bot'))).status).toBe(200)

      await ghGrant.locator('[data-testid="agent-revoke"]').click()
      await byTestId(p, 'confirm-ok').click()
      await dialog.waitFor({ state: 'detached' })
      await expect
        .poll(() => ciBot.locator('[data-testid="agent-grant"]').allTextContents())
        .toEqual([expect.stringContaining('internal-api')])
      // The gate picks up the change within a second (it re-reads grants, as after `aegis agent revoke`).
      await expect
        .poll(async () => (await gateGet(e2e.dash.gatePort, '/github/after-revoke', as('ci-bot'))).block, {
          timeout: 2000,
          interval: 50,
        })
        .toBe('grant_denied')
    } finally {
      await opened.context.close()
    }
  })

  it('a role changed in the Users view applies to an open session at once: the demoted operator loses Agents', async () => {
    const admin = await newPage(e2e.browser)
    const operator = await newPage(e2e.browser)
    try {
      const o = operator.page
      await loginWithUserToken(o, e2e.dash.url, e2e.dash.users.operator)
      await byTestId(o, 'nav-agents').click()
      await expect.poll(() => o.locator('[data-testid="agent-row"]').count()).toBe(3)

      const a = admin.page
      await loginWithUserToken(a, e2e.dash.url, e2e.dash.users.admin)
      await byTestId(a, 'nav-users').click()
      await a.locator('[data-testid="user-row"][data-name="oscar"] [data-testid="user-role"]').click()
      await byTestId(a, 'user-role-select').selectOption('viewer')
      await byTestId(a, 'confirm-ok').click()
      const role = a.locator('[data-testid="user-row"][data-name="oscar"] [data-testid="user-role-text"]')
      await expect.poll(() => role.textContent()).toBe('viewer')

      // The operator's session re-resolves its user on every call: no new login needed.
      expect((await pageGet(o, `${e2e.dash.url}/api/agents`)).status).toBe(403)
      await byTestId(o, 'nav-overview').click()
      await expect.poll(() => byTestId(o, 'nav-agents').count()).toBe(0)
      expect(await byTestId(o, 'whoami').textContent()).toContain('viewer')
      await o.goto(`${e2e.dash.url}/agents`)
      await byTestId(o, 'forbidden').waitFor({ timeout: 5000 })
    } finally {
      await admin.context.close()
      await operator.context.close()
    }
  })
})
