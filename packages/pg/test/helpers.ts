import { fileURLToPath } from 'node:url'
import type { MigrationSet } from '../src/index.js'

/** A package's migrations as the stores define them: one table with a change trigger. */
export const WIDGETS: MigrationSet = {
  name: 'widgets',
  folder: fileURLToPath(new URL('./fixtures/widgets', import.meta.url)),
  table: '__migrations_widgets',
}

/** The same package one release later (a second migration). */
export const WIDGETS_V2: MigrationSet = {
  ...WIDGETS,
  folder: fileURLToPath(new URL('./fixtures/widgets-v2', import.meta.url)),
}

export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return Date.now() - started
}
