import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RateLimiter } from '@aegis/guard'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentRecord } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * Two gates on two vaults (staging, production) with the same policies folder and one shared
 * budget store (as with one Redis and the default prefix). Each vault has its own research-bot:
 * the same name, another agent. A policy rule's budget belongs to the agent, not to its name.
 */
const POLICY = 'agent: research-bot\nrules:\n  - service: slack\n    rate_limit: 1/hour\n'

describe('policy rule budgets in a store shared by gates of different vaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-policies-'))
  const store = new RateLimiter()
  const gates: { h: Harness; token: string }[] = []

  beforeAll(async () => {
    writeFileSync(join(dir, 'research-bot.yaml'), POLICY)
    for (const vaultName of ['staging', 'production']) {
      const token = `aegis_${randomBytes(32).toString('base64url')}`
      const agents: AgentRecord[] = []
      const h = await startHarness({
        gate: {
          requireAgentAuth: true,
          policies: { dir, mode: 'enforce' },
          rateLimits: { store },
        },
        source: (vault) => ({
          loadAll: () => vault.loadAll(),
          loadAgents: () => agents,
          changeToken: () => `${vault.changeToken()}/${agents.length}`,
        }),
      })
      h.add({ name: 'slack-bot', service: 'slack', secret: `xoxb-${vaultName}-secret-1` })
      agents.push({
        id: `${vaultName}-research-bot-id`,
        name: 'research-bot',
        prefix: token.slice(0, 12),
        tokenHash: createHash('sha256').update(token).digest(),
        rateLimit: null,
        maxInFlight: null,
        grants: [h.vault.get('slack-bot')?.id ?? ''],
      })
      h.gate.refresh()
      gates.push({ h, token })
    }
  })
  afterAll(async () => {
    for (const { h } of gates) await h.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("one vault's agent does not spend the other's budget under the same name", async () => {
    const [staging, production] = gates as [(typeof gates)[0], (typeof gates)[0]]
    const as = (g: typeof staging) =>
      send(g.h.port, '/slack/api/x', { headers: { 'X-Aegis-Agent': g.token } })
    expect((await as(staging)).status).toBe(200)
    expect((await as(staging)).status).toBe(429)
    // Production's research-bot has sent nothing yet: its 1/hour is whole.
    expect((await as(production)).status).toBe(200)
    expect((await as(production)).status).toBe(429)
  })
})
