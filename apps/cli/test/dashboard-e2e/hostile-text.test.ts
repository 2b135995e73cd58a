/**
 * What an agent writes into the ledger (paths, service segments, target hosts) is text in every
 * view of the dashboard, in a real Chromium: markup in a path or host runs nothing — not in the
 * table, the live feed, the drawer, or the other views — and no agent string becomes a link.
 */
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newPage } from './browser.js'
import { useDashboard } from './setup.js'
import { byTestId, loginWithUserToken } from './ui.js'

declare const document: { title: string }

const e2e = useDashboard()
let page: Page
let close: () => Promise<void>
/** A local listener every payload calls: a request here means script ran. */
let listener: Server
let listenerPort = 0
const hits: string[] = []
const dialogs: string[] = []

/** One raw request (the HTTP parser takes `<`, `>`, `'` and `(` in a target; node's client would encode them). */
function rawGet(port: number, target: string, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const lines = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close']
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
      socket.end(`${lines.join('\r\n')}\r\n\r\n`)
    })
    socket.on('data', () => {})
    socket.on('close', () => resolve())
    socket.on('error', reject)
  })
}

/** Markup that, if it ever became HTML, would call the listener and set the title. */
const payloads = () => {
  const run = `fetch('http://127.0.0.1:${listenerPort}/x');document.title='pwned'`
  return {
    path: `/github/<img/src=x/onerror=${run.replaceAll(' ', '')}>`,
    service: `/<svg/onload=${run}>/x`,
    host: `<img src=x onerror="${run}">`,
    link: `javascript:${run}`,
  }
}

beforeAll(async () => {
  if (!e2e.ready) return
  listener = createServer((req, res) => {
    hits.push(req.url ?? '')
    res.end()
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  listenerPort = (listener.address() as { port: number }).port
  const agent = { 'X-Aegis-Agent': e2e.dash.agents['research-bot'] as string }
  const p = payloads()
  await rawGet(e2e.dash.gatePort, p.path, agent)
  await rawGet(e2e.dash.gatePort, p.service, agent)
  await rawGet(e2e.dash.gatePort, '/github/x', { ...agent, 'X-Target-Host': p.host })
  await rawGet(e2e.dash.gatePort, '/github/x', { ...agent, 'X-Target-Host': p.link })
  const opened = await newPage(e2e.browser)
  page = opened.page
  close = () => opened.context.close()
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  await loginWithUserToken(page, e2e.dash.url, e2e.dash.users.admin)
}, 30_000)

afterAll(async () => {
  await close?.()
  await new Promise((resolve) => listener?.close(resolve))
})

describe('agent-controlled text in the dashboard', () => {
  it('renders markup from paths and target hosts as text in the feed and its drawer, running nothing', async () => {
    await byTestId(page, 'nav-feed').click()
    await page.waitForURL((u) => u.pathname === '/feed')
    const hostile = page.locator('[data-testid="feed-row"]', { hasText: '<img/src=x/onerror=' })
    await hostile.first().waitFor({ timeout: 5000 })
    expect(await page.locator('[data-testid="feed-row"]', { hasText: '<svg/onload=' }).count()).toBe(1)

    // Every row's drawer: the host field and the JSON show the markup as text.
    const rows = page.locator('[data-testid="feed-row"] button')
    const shownHosts: string[] = []
    for (let i = 0; i < Math.min(await rows.count(), 8); i++) {
      await rows.nth(i).click()
      const drawer = byTestId(page, 'feed-drawer')
      await drawer.waitFor({ timeout: 3000 })
      const host = byTestId(page, 'drawer-targetHost')
      if ((await host.count()) > 0) shownHosts.push((await host.textContent()) ?? '')
      await byTestId(page, 'drawer-close').click()
      await drawer.waitFor({ state: 'detached' })
    }
    const p = payloads()
    expect(shownHosts).toEqual(expect.arrayContaining([p.host, p.link]))

    // Live: a hostile row that arrives over the socket while the feed is open.
    await rawGet(e2e.dash.gatePort, `${p.path}/live`, {
      'X-Aegis-Agent': e2e.dash.agents['research-bot'] as string,
    })
    await page.locator('[data-testid="feed-row"]', { hasText: '/live' }).waitFor({ timeout: 5000 })

    expect(await page.locator('img, svg[onload], script:not([src])').count()).toBe(0)
    expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0)
  })

  it('runs nothing in the other views either', async () => {
    for (const view of ['overview', 'blocked', 'agents', 'credentials', 'feed']) {
      await byTestId(page, `nav-${view}`).click()
      await page.waitForTimeout(300)
    }
    await page.waitForTimeout(500)
    expect(await page.evaluate(() => document.title)).not.toBe('pwned')
    expect(hits).toEqual([])
    expect(dialogs).toEqual([])
  })
})
