/**
 * `aegis dashboard --no-gate` shows what the external gate's `/_aegis/health` says, in a real
 * Chromium: a 503 that is not `sealed` (the audit ledger cannot be written, so every request is
 * refused) is "ledger unavailable", never "running". The gate here is a stand-in that answers
 * health as the real one does, so the test can switch its state.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningDashboard, startDashboard } from '../dashboard/helpers.js'
import { initProject, type Project, removeDir } from '../helpers/run-cli.js'
import { launchChromium, newPage } from './browser.js'
import { byTestId, screenshot } from './ui.js'

/** The stand-in gate's health answer: [HTTP status, body]. */
const ANSWERS = {
  ok: [200, { status: 'ok', sealed: false, ledger: 'ok', credentials: 1, uptimeMs: 1 }],
  ledger: [
    503,
    { status: 'ledger_unavailable', sealed: false, ledger: 'unavailable', credentials: 1, uptimeMs: 2 },
  ],
  sealed: [503, { status: 'sealed', sealed: true, ledger: 'ok', credentials: 0, uptimeMs: 3 }],
} as const
let answer: keyof typeof ANSWERS = 'ok'

let project: Project
let gate: Server
let dash: RunningDashboard
let browser: Browser
let page: Page

beforeAll(async () => {
  project = await initProject()
  gate = createServer((req, res) => {
    const [status, body] = ANSWERS[answer]
    res.writeHead(req.url === '/_aegis/health' ? status : 404, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  })
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r))
  const gatePort = (gate.address() as AddressInfo).port
  const [started, chromium] = await Promise.all([
    startDashboard(project.dir, ['--no-gate', '--gate-port', String(gatePort), '--port', '0'], project.env),
    launchChromium(),
  ])
  dash = started
  browser = chromium
  page = (await newPage(browser)).page
  await page.goto(`http://127.0.0.1:${dash.port}/login#t=${dash.token}`)
  await page.waitForURL((u) => u.pathname === '/', { timeout: 5000 })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  dash?.child.kill('SIGTERM')
  await dash?.exited
  gate?.close()
  if (project) removeDir(project.dir)
})

/** The Overview polls every 5 s. */
const shown = () =>
  expect.poll(() => byTestId(page, 'overview-gate-status').textContent(), { timeout: 8000, interval: 100 })

describe('the Overview on an external gate', () => {
  it('says running while the gate serves, ledger unavailable on its 503, and sealed when sealed', async () => {
    await shown().toBe('running')
    answer = 'ledger'
    await shown().toBe('ledger unavailable')
    expect(
      await byTestId(page, 'overview-gate-status').locator('span').first().getAttribute('title'),
    ).toContain('ledger_unavailable')
    await screenshot(page, 'overview-ledger-unavailable')
    answer = 'sealed'
    await shown().toBe('sealed')
    answer = 'ok'
    await shown().toBe('running')
  })
})
