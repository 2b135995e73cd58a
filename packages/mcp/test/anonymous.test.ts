import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../../proxy/test/fixtures/client.js'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

/** Policies enforced with agent auth off: a call without an agent token escapes no policy. */
describe('MCP: anonymous calls while policies are enforced', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-mcp-anon-'))
  let w: World
  beforeAll(async () => {
    writeFileSync(join(dir, 'bot.yaml'), 'agent: bot\nrules: []\n')
    w = await startWorld({ pipeline: { policies: { dir, mode: 'enforce', defaultPolicy: 'deny' } } })
    w.add({ name: 'api', service: 'api', secret: 'api-secret-anon-01' })
  })
  afterAll(async () => {
    await w.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses the call, discovery and health as the gate refuses the request', async () => {
    const client = await w.connect({ agentToken: null })
    const before = w.upstream.received.length
    const problem = problemOf(await call(client, 'aegis_proxy_request', { service: 'api', path: '/x' }))
    const gateReply = await send(w.gatePort, '/api/x')
    expect(problem).toMatchObject({ code: 'agent_auth_required', status: 401 })
    expect(gateReply.json()).toMatchObject({ code: 'agent_auth_required', status: 401 })
    expect(problemOf(await call(client, 'aegis_list_services')).code).toBe('agent_auth_required')
    expect(problemOf(await call(client, 'aegis_health')).code).toBe('agent_auth_required')
    expect(w.upstream.received.length).toBe(before)
    expect(w.pipeline.anonymous).toBe('policy-refuses')
  })
})
