import { existsSync } from 'node:fs'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'

/** Debian's Chromium: `.ci/run` installs the `chromium` package when it is missing. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * The name a rebinding attacker's page would use: the browser resolves it to 127.0.0.1
 * (`--host-resolver-rules`), so a navigation to it reaches the dashboard with `Host: evil.test`.
 */
export const EVIL_HOST = 'evil.test'

/** The viewport of every page (and of the README screenshots). */
export const VIEWPORT = { width: 1280, height: 800 }

/**
 * Launches Chromium the way stack-notes §9 found to work headless as root in CI. Fails (never
 * skips) when Chromium is missing: CI always installs it, so a missing binary is a broken machine.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium; .ci/run does this) to run the dashboard e2e tests`,
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      // CI runs as root, where Chromium's sandbox cannot start.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=MAP ${EVIL_HOST} 127.0.0.1`,
    ],
  })
}

/** A fresh context (own cookies) and page at the standard viewport. */
export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT })
  const page = await context.newPage()
  return { context, page }
}
