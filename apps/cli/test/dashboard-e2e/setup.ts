import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, expect, inject } from 'vitest'
import { launchChromium } from './browser.js'
import { type Dashboard, type Expected, scriptedRun, startDashboard } from './fixture.js'

export interface E2e {
  dash: Dashboard
  browser: Browser
  /** Set when the file asked for the scripted run. */
  expected: Expected
  /** False when the setup failed (a file's own beforeAll then does nothing: every test fails). */
  ready: boolean
}

/**
 * Per test file: a dashboard on a copy of the template (its own ledger and one-time link) and a
 * Chromium, both stopped after the file; the dashboard must exit 0 on SIGTERM. With `scripted`,
 * the scripted run's requests are made before the first test.
 *
 * A setup that fails (no /usr/bin/chromium, a dashboard that does not start) fails every test of
 * the file with its message: a failing hook alone would show the tests as skipped, and CI, which
 * always installs Chromium, must count them as failures.
 */
export function useDashboard(opts: { scripted?: boolean } = {}): E2e {
  const e2e = { ready: false } as E2e
  let setupError: unknown
  beforeAll(async () => {
    try {
      // Side by side: Chromium starts while the CLI boots.
      const [dash, browser] = await Promise.allSettled([
        startDashboard(inject('dashboardTemplate')),
        launchChromium(),
      ])
      if (dash.status === 'fulfilled') e2e.dash = dash.value
      if (browser.status === 'fulfilled') e2e.browser = browser.value
      if (dash.status === 'rejected') throw dash.reason
      if (browser.status === 'rejected') throw browser.reason
      if (opts.scripted) e2e.expected = await scriptedRun(e2e.dash.gatePort, e2e.dash.agents)
      e2e.ready = true
    } catch (error) {
      setupError = error
    }
  }, 60_000)
  beforeEach(() => {
    if (setupError !== undefined) throw setupError
  })
  afterAll(async () => {
    await e2e.browser?.close()
    if (e2e.dash !== undefined) {
      const code = await e2e.dash.stop()
      expect(code, `aegis dashboard exits 0 on SIGTERM:\n${e2e.dash.output()}`).toBe(0)
    }
  })
  return e2e
}
