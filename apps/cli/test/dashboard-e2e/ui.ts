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
