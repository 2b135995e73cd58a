import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { startRelay } from '../../../test-support/tcp-relay.js'
import { openPool } from '../src/index.js'
import { type ScratchDatabase, scratchDatabase } from '../src/testing.js'

const adminUrl = pgTestUrl('@aegis/pg pool')

/** Settles with the query's outcome, or 'hung' when it has not after `ms`. */
function within(ms: number, query: Promise<unknown>): Promise<'answered' | 'failed' | 'hung'> {
  return Promise.race([
    query.then(
      () => 'answered' as const,
      () => 'failed' as const,
    ),
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms)),
  ])
}

describe.skipIf(adminUrl === undefined)('openPool on a real PostgreSQL', () => {
  let scratch: ScratchDatabase
  beforeAll(async () => {
    scratch = await scratchDatabase(adminUrl as string)
  })
  afterAll(async () => {
    await scratch?.drop()
  })

  it('a query behind a dead network path fails soon after the statement timeout, and its connection is not reused', async () => {
    const relay = await startRelay(scratch.url)
    const pool = openPool({ url: relay.url, max: 1, statementTimeoutMs: 300, onError: () => {} })
    try {
      await pool.query('SELECT 1')
      // The pool's one connection now leads nowhere, and nothing says so (no RST, no FIN).
      relay.freeze()
      const started = Date.now()
      expect(await within(5000, pool.query('SELECT 1'))).toBe('failed')
      expect(Date.now() - started).toBeLessThan(3000)
      // The next query gets a new connection (new ones still get through) instead of the dead one.
      expect(await within(5000, pool.query('SELECT 2'))).toBe('answered')
    } finally {
      await relay.close()
      await within(2000, pool.end())
    }
  })
})
