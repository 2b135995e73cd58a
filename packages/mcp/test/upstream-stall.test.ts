import { afterAll, beforeAll, expect, it } from 'vitest'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

let w: World
beforeAll(async () => {
  w = await startWorld({ pipeline: { limits: { requestTimeout: 500 } } })
  w.add({ name: 'slow', service: 'slow', secret: 'stall-secret-1a2b' })
})
afterAll(() => w.close())

it('a body that pauses past the deadline is upstream_timeout, in the result and the ledger', async () => {
  const client = await w.connect()
  // The upstream sends its head and a first chunk, then pauses 1.5 s: over the 0.5 s deadline.
  const problem = problemOf(
    await call(client, 'aegis_proxy_request', { service: 'slow', path: '/drip/3/1500' }),
  )
  expect(problem.code).toBe('upstream_timeout')
  await w.ledger.flush()
  const entry = w.ledger.query({ limit: 5 }).find((e) => e.requestId === problem.instance)
  expect(entry).toMatchObject({ decision: 'failed', code: 'upstream_timeout' })
})
