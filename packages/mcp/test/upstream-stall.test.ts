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

it('a body that breaks off says how: malformed (short of its Content-Length) or the connection closed', async () => {
  const client = await w.connect()
  const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 200000\r\n\r\n'
  // Over the whole-body limit, so the head is answered before the body fails.
  // With `Connection: close`, undici takes the end as the end of the body, and finds it short.
  w.upstream.scripts.set(
    'short',
    (s) => void s.end(`${head.slice(0, -2)}Connection: close\r\n\r\n${'a'.repeat(100_000)}`),
  )
  w.upstream.scripts.set('dropped', (s) => {
    s.write(head + 'a'.repeat(100_000), () => setTimeout(() => s.destroy(), 50))
  })
  const short = problemOf(
    await call(client, 'aegis_proxy_request', { service: 'slow', path: '/script/short' }),
  )
  expect(short).toMatchObject({
    code: 'upstream_unreachable',
    detail: 'The upstream response broke off: it was malformed (the body did not match its Content-Length)',
  })
  const dropped = problemOf(
    await call(client, 'aegis_proxy_request', { service: 'slow', path: '/script/dropped' }),
  )
  expect(dropped).toMatchObject({
    code: 'upstream_unreachable',
    detail: 'The upstream closed the connection before its response was complete',
  })
  await w.ledger.flush()
  const entry = w.ledger.query({ limit: 5 }).find((e) => e.requestId === dropped.instance)
  expect(entry).toMatchObject({ decision: 'failed', code: 'upstream_unreachable', status: 200 })
})
