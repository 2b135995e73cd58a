import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, inject } from 'vitest'
import { launchChromium } from './browser.js'
import { type Dashboard, type Expected, scriptedRun, startDashboard } from './fixture.js'

export interface E2e {
  dash: Dashboard
  browser: Browser
  /** Set when the file asked for the scripted run. */
  expected: Expected
}

/**
 * Per test file: a dashboard on a copy of the template (its own ledger and one-time link) and a
 * Chromium, both stopped after the file; the dashboard must exit 0 on SIGTERM. With `scripted`,
 * the scripted run's requests are made before the first test.
 */
export function useDashboard(opts: { scripted?: boolean } = {}): E2e {
  const e2e = {} as E2e
  beforeAll(async () => {
    e2e.dash = await startDashboard(inject('dashboardTemplate'))
    e2e.browser = await launchChromium()
    if (opts.scripted) e2e.expected = await scriptedRun(e2e.dash.gatePort, e2e.dash.agents)
  }, 60_000)
  afterAll(async () => {
    await e2e.browser?.close()
    if (e2e.dash !== undefined) {
      const code = await e2e.dash.stop()
      expect(code, `aegis dashboard exits 0 on SIGTERM:\n${e2e.dash.output()}`).toBe(0)
    }
  })
  return e2e
}
