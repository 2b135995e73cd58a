import { once } from 'node:events'
import { type IncomingMessage, request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestLogging } from '../src/logger.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'
import { memoryLogger } from './fixtures/log.js'

const SECRET = 'logging-test-secret-value-77'

/** Asks for a long streamed body and hangs up once it starts: a failed delivery. */
async function hangUpMidBody(port: number): Promise<void> {
  const req = request({ host: '127.0.0.1', port, path: '/svc/gzip-stream/64', agent: false })
  req.on('error', () => undefined)
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  res.destroy()
}

async function loggedLines(h: Harness, log: ReturnType<typeof memoryLogger>) {
  expect((await send(h.port, '/svc/ok')).status).toBe(200)
  expect((await send(h.port, '/nothing-serves-this/x')).status).toBe(404)
  await hangUpMidBody(h.port)
  // The failed delivery is recorded when the gate sees the connection close.
  await new Promise((r) => setTimeout(r, 1200))
  const messages = log.entries().map((l) => String(l.msg))
  return {
    forwarded: log.entries().filter((l) => l.msg === 'request forwarded'),
    refused: messages.filter((m) => m === 'request refused').length,
    text: log.text(),
  }
}

describe.each([
  // [setting, allowed request logged, refusal logged, failed delivery logged]
  [undefined, false, true, true],
  ['refused', false, true, true],
  ['all', true, true, true],
  ['off', false, false, false],
] as const)('logRequests: %s', (setting, allowedLogged, refusalLogged, failureLogged) => {
  let h: Harness
  const log = memoryLogger('debug')
  beforeAll(async () => {
    h = await startHarness({
      gate: {
        logger: log.logger,
        ...(setting === undefined ? {} : { logRequests: setting as RequestLogging }),
      },
      prepare: (vault) =>
        vault.add({ name: 'svc', service: 'svc', secret: SECRET, domains: ['api.example.test'] }),
    })
  })
  afterAll(() => h.close())

  it('logs exactly the requests it is set to, and the ledger still has every one', async () => {
    const lines = await loggedLines(h, log)
    const ok = lines.forwarded.filter((l) => l.path === '/ok' && l.err === undefined)
    const failed = lines.forwarded.filter((l) => l.err !== undefined)
    expect(ok.length).toBe(allowedLogged ? 1 : 0)
    expect(lines.refused).toBe(refusalLogged ? 1 : 0)
    expect(failed.length).toBe(failureLogged ? 1 : 0)
    expect(lines.text).not.toContain(SECRET)
    await h.ledger.flush()
    const rows = h.ledger.query({ limit: 10 }).filter((r) => r.channel !== 'system')
    expect(rows.map((r) => r.decision).sort()).toEqual(['allowed', 'blocked', 'failed'])
  })
})
