import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Locator, Page } from 'playwright-core'
import { expect } from 'vitest'
import { CLI_ROOT } from '../helpers/run-cli.js'

/** Screenshots of the views (gitignored; CI keeps them as test output). */
export const SCREENSHOT_DIR = join(CLI_ROOT, 'test-output', 'dashboard')

/** `[data-testid="<id>"]` */
export function byTestId(page: Page | Locator, id: string): Locator {
  return page.locator(`[data-testid="${id}"]`)
}

/**
 * Logs in with a user token on the login form (the way a user with an AEGIS_USER_TOKEN does) and
 * waits until the SPA left /login.
 */
export async function loginWithUserToken(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/login`)
  await byTestId(page, 'login-token-input').fill(token)
  await byTestId(page, 'login-submit').click()
  await page.waitForURL((u) => u.pathname !== '/login', { timeout: 5000 })
}

// The page's localStorage, read in page.evaluate (this package is typed for Node only).
declare const localStorage: { getItem(name: string): string | null }

/** The session key the SPA keeps in its origin's localStorage (null when there is none). */
export function storedKey(page: Page): Promise<string | null> {
  return page.evaluate(() => localStorage.getItem('aegis.sessionKey'))
}

/** GET an API route from the page's browser context the way the SPA calls it: cookie and key. */
export async function pageGet(page: Page, url: string): Promise<{ status: number; body: unknown }> {
  const key = await storedKey(page)
  const reply = await page.request.get(url, { headers: key === null ? {} : { 'X-Aegis-Session': key } })
  return { status: reply.status(), body: await reply.json() }
}

/** Waits (polling, like expect.poll) until `read` returns a value equal to `want`. */
export async function eventually<T>(read: () => Promise<T>, want: T, timeout = 5000): Promise<void> {
  await expect.poll(read, { timeout, interval: 50 }).toEqual(want)
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name}.png`)
  await page.screenshot({ path })
  return path
}
