import { createPipeline } from '@aegis/proxy'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CORRUPTIONS, corruptRow } from '../../vault/test/fixtures/corrupt-rows.js'
import { toGateRequest } from '../src/request.js'
import { call, problemOf, silentLogger, startWorld, type World } from './fixtures/world.js'

const GOOD = 'healthy-secret-value-1111'
const brokenSecret = (i: number) => `broken-secret-value-${i}-2222`

/**
 * The MCP channel runs the same pipeline: a damaged credential row (written straight into the
 * vault file) neither stops it from starting nor from serving the other services; the damaged
 * row's service is refused with `credential_unavailable` and recorded.
 */
let w: World
let client: Client
beforeAll(async () => {
  w = await startWorld()
  w.add({ name: 'good', service: 'good', secret: GOOD })
  for (const i of CORRUPTIONS.keys())
    w.add({ name: `bad-${i}`, service: `bad-${i}`, secret: brokenSecret(i) })
  for (const [i, corruption] of CORRUPTIONS.entries())
    corruptRow(w.vault.file, corruption, `bad-${i}`, 'good')
  // Seals or secret ciphertexts changed outside Aegis change the set of rows (the whole vault is
  // refused): accepted as they are now (vault reseal), each damaged row is still refused on its own.
  w.vault.reseal()
  w.pipeline.refresh()
  client = await w.connect()
})
afterAll(() => w.close())

describe('a damaged credential row over MCP', () => {
  it('a new pipeline (as the MCP server starts one) starts on the damaged vault', async () => {
    const fresh = createPipeline({ credentials: w.vault, audit: w.ledger, logger: silentLogger() })
    try {
      const listed = fresh.engine.services(null)
      expect(listed.ok && listed.services.map((s) => s.service)).toEqual(['good'])
      const refused = await fresh.engine.process(
        toGateRequest({ service: 'bad-0', path: '/x', method: 'GET' }, null),
      )
      expect(refused.kind === 'refused' && refused.refusal.code).toBe('credential_unavailable')
    } finally {
      await fresh.close()
    }
  })

  it('the healthy service is served', async () => {
    const result = await call(client, 'aegis_proxy_request', { service: 'good', path: '/x' })
    expect(result.isError).toBeFalsy()
    expect(w.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${GOOD}`)
  })

  it.each(CORRUPTIONS.map((c, i) => [c.label, i] as const))(
    '%s: refused with credential_unavailable and recorded',
    async (_label, i) => {
      const before = w.upstream.received.length
      const result = await call(client, 'aegis_proxy_request', { service: `bad-${i}`, path: '/x' })
      const problem = problemOf(result)
      expect(problem).toMatchObject({
        status: 503,
        code: 'credential_unavailable',
        type: 'urn:aegis:problem:credential_unavailable',
      })
      expect(JSON.stringify(result)).not.toContain(brokenSecret(i))
      expect(w.upstream.received.length).toBe(before)
      await w.ledger.flush()
      const entry = w.ledger.query({ limit: 200 }).find((e) => e.requestId === problem.instance)
      expect(entry).toMatchObject({
        channel: 'mcp',
        service: `bad-${i}`,
        decision: 'blocked',
        code: 'credential_unavailable',
        status: 503,
      })
    },
  )
})
