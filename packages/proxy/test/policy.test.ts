import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentRecord } from '../src/index.js'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'
import { memoryLogger } from './fixtures/log.js'

const token = () => `aegis_${randomBytes(32).toString('base64url')}`
const hash = (t: string) => createHash('sha256').update(t).digest()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const RESEARCH = `agent: research-bot
rules:
  - service: slack
    methods: [GET]
    paths:
      - /api/conversations\\..*
      - /api/users\\..*
    rate_limit: 3/hour
  - service: slack
    methods: [POST]
    paths: [/api/chat.postMessage]
`

interface Setup {
  h: Harness
  dir: string
  research: string
  other: string
  /** Registers one more agent (the gate sees it on its next poll). */
  register(name: string): void
}

async function setup(
  mode: 'enforce' | 'dry-run',
  defaultPolicy: 'allow' | 'deny' = 'allow',
  logger?: ReturnType<typeof memoryLogger>['logger'],
): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-policies-'))
  writeFileSync(join(dir, 'research-bot.yaml'), RESEARCH)
  const research = token()
  const other = token()
  const agents: AgentRecord[] = []
  const h = await startHarness({
    gate: { requireAgentAuth: true, policies: { dir, mode, defaultPolicy }, ...(logger && { logger }) },
    source: (vault) => ({
      loadAll: () => vault.loadAll(),
      loadAgents: () => agents,
      changeToken: () => `${vault.changeToken()}/${agents.length}`,
    }),
  })
  h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-test-secret-1' })
  const slack = h.vault.get('slack-bot')?.id ?? ''
  const record = (name: string, t: string): AgentRecord => ({
    id: name,
    name,
    prefix: t.slice(0, 12),
    tokenHash: hash(t),
    rateLimit: null,
    maxInFlight: null,
    grants: [slack],
  })
  agents.push(record('research-bot', research), record('other-bot', other))
  h.gate.refresh()
  const register = (name: string) => void agents.push(record(name, token()))
  return { h, dir, research, other, register }
}

async function teardown(s: Setup) {
  await s.h.close()
  rmSync(s.dir, { recursive: true, force: true })
}

describe('policies in enforce mode', () => {
  let s: Setup
  const as = (path: string, method = 'GET') =>
    send(s.h.port, path, {
      method,
      headers: { 'X-Aegis-Agent': s.research },
      body: method === 'POST' ? '{}' : undefined,
    })
  beforeAll(async () => {
    s = await setup('enforce')
  })
  afterAll(() => teardown(s))

  it('allows what a rule allows', async () => {
    expect((await as('/slack/api/conversations.list')).status).toBe(200)
    expect((await as('/slack/api/chat.postMessage', 'POST')).status).toBe(200)
  })

  it('refuses paths, methods and services no rule allows, matching whole paths only', async () => {
    for (const [path, method] of [
      ['/slack/api/admin.users', 'GET'],
      ['/slack/api/conversations.list', 'DELETE'],
      ['/slack/x/api/conversations.list', 'GET'],
      ['/slack/api/chat.postMessage/extra', 'POST'],
      ['/slack/api/chat.postMessage', 'GET'],
    ] as const) {
      const reply = await as(path, method)
      expect(reply.status, `${method} ${path}`).toBe(403)
      expect(reply.headers['x-aegis-block']).toBe('policy_denied')
      // The agent learns the policy file's name, never where the server keeps it.
      expect(reply.text).not.toContain(s.dir)
    }
  })

  it('applies a rule rate limit to that rule only', async () => {
    // 3/hour on the GET rule: one spent above.
    expect((await as('/slack/api/users.list')).status).toBe(200)
    expect((await as('/slack/api/users.info')).status).toBe(200)
    const limited = await as('/slack/api/users.info')
    expect(limited.status).toBe(429)
    expect(limited.headers['x-aegis-block']).toBe('rate_limited')
    // The POST rule has its own (unlimited) budget.
    expect((await as('/slack/api/chat.postMessage', 'POST')).status).toBe(200)
  })

  it('leaves agents without a policy file to grants and scopes', async () => {
    const reply = await send(s.h.port, '/slack/anything', { headers: { 'X-Aegis-Agent': s.other } })
    expect(reply.status).toBe(200)
  })

  it('reloads a changed file within 2 s, denies everything while it is broken, and recovers', async () => {
    const file = join(s.dir, 'research-bot.yaml')
    writeFileSync(file, RESEARCH.replace('/api/chat.postMessage', '/api/chat.update'))
    const within = async (want: number, path: string, method = 'GET') => {
      const started = Date.now()
      while (Date.now() - started < 2000) {
        if ((await as(path, method)).status === want) return
        await sleep(50)
      }
      throw new Error(`${method} ${path} did not become ${want} within 2 s`)
    }
    await within(200, '/slack/api/chat.update', 'POST')
    expect((await as('/slack/api/chat.postMessage', 'POST')).status).toBe(403)

    writeFileSync(file, `${RESEARCH}\n  - service: [broken\n`)
    // chat.update was allowed a moment ago; a broken file must deny the agent everything.
    await within(403, '/slack/api/chat.update', 'POST')
    expect((await as('/slack/api/conversations.list')).headers['x-aegis-block']).toBe('policy_denied')

    writeFileSync(file, RESEARCH)
    await within(200, '/slack/api/chat.postMessage', 'POST')
  })
})

describe('policies in dry-run mode', () => {
  let s: Setup
  let log: ReturnType<typeof memoryLogger>
  beforeAll(async () => {
    log = memoryLogger('info')
    s = await setup('dry-run', 'allow', log.logger)
  })
  afterAll(() => teardown(s))

  it('forwards what it would refuse and records the would-be refusal, not as blocked', async () => {
    const before = s.h.upstream.received.length
    const reply = await send(s.h.port, '/slack/api/admin.users', { headers: { 'X-Aegis-Agent': s.research } })
    expect(reply.status).toBe(200)
    expect(s.h.upstream.received.length).toBe(before + 1)
    await s.h.ledger.flush()
    const entries = s.h.ledger
      .query({ limit: 20 })
      .filter((e) => e.requestId === reply.headers['x-request-id'])
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ decision: 'allowed', dryRun: 'policy_denied', agent: 'research-bot' })
    expect(s.h.ledger.stats({}).blocked).toBe(0)
  })

  it('logs what it would refuse (default logRequests: refused), marked as dry-run; not what it allows', async () => {
    const would = await send(s.h.port, '/slack/api/admin.users', { headers: { 'X-Aegis-Agent': s.research } })
    const fine = await send(s.h.port, '/slack/api/users.list', { headers: { 'X-Aegis-Agent': s.research } })
    expect([would.status, fine.status]).toEqual([200, 200])
    await sleep(50)
    const line = log.entries().find((l) => l.reqId === would.headers['x-request-id'])
    expect(line).toMatchObject({ dryRun: 'policy_denied', status: 200, path: '/api/admin.users' })
    expect(String(line?.msg)).toMatch(/dry-run/)
    expect(log.entries().find((l) => l.reqId === fine.headers['x-request-id'])).toBeUndefined()
  })
})

describe('a policy file for an agent that is not registered', () => {
  it('is named in a warning once, as it applies to no one (a misspelt agent stays unrestricted)', async () => {
    const log = memoryLogger()
    const s = await setup('enforce', 'allow', log.logger)
    try {
      // (research-bot is registered only after the harness started, so it may be named at start.)
      const warnings = () =>
        log
          .entries()
          .filter((e) => e.level === 40 && String(e.msg).startsWith('policy file names an agent'))
          .filter((e) => e.agent === 'Other-bot')
      // The operator meant other-bot: the file loads as valid, and other-bot is still unrestricted.
      writeFileSync(join(s.dir, 'other.yaml'), 'agent: Other-bot\nrules: []\n')
      const started = Date.now()
      while (warnings().length === 0 && Date.now() - started < 2000) await sleep(50)
      expect(warnings()).toMatchObject([{ agent: 'Other-bot', file: join(s.dir, 'other.yaml') }])
      const other = await send(s.h.port, '/slack/anything', { headers: { 'X-Aegis-Agent': s.other } })
      expect(other.status).toBe(200)
      // Another reload does not repeat it; registering the agent ends it.
      writeFileSync(join(s.dir, 'research-bot.yaml'), `${RESEARCH}\n`)
      await sleep(700)
      expect(warnings()).toHaveLength(1)
      s.register('Other-bot')
      s.h.gate.refresh()
      writeFileSync(join(s.dir, 'research-bot.yaml'), RESEARCH)
      await sleep(700)
      expect(warnings()).toHaveLength(1)
    } finally {
      await teardown(s)
    }
  })

  it('is not judged while the vault is sealed (no agent can be read then)', async () => {
    const log = memoryLogger()
    const dir = mkdtempSync(join(tmpdir(), 'aegis-policies-'))
    writeFileSync(join(dir, 'research-bot.yaml'), RESEARCH)
    let sealed = true
    const agents: AgentRecord[] = [
      {
        id: 'research-bot',
        name: 'research-bot',
        prefix: 'aegis_xxxxxx',
        tokenHash: hash(token()),
        rateLimit: null,
        maxInFlight: null,
        grants: [],
      },
    ]
    const h = await startHarness({
      gate: { logger: log.logger, policies: { dir, mode: 'enforce' } },
      source: (vault) => ({
        loadAll: () => (sealed ? [] : vault.loadAll()),
        loadAgents: () => (sealed ? [] : agents),
        changeToken: () => `${sealed}:${vault.changeToken()}`,
        isSealed: () => sealed,
      }),
    })
    try {
      await sleep(700)
      sealed = false
      h.gate.refresh()
      writeFileSync(join(dir, 'research-bot.yaml'), `${RESEARCH}\n`)
      await sleep(700)
      const named = log.entries().filter((e) => String(e.msg).startsWith('policy file names an agent'))
      expect(named).toEqual([])
    } finally {
      await h.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('an agent token pasted into a policy file as its agent', () => {
  it('is never logged: the file is refused without repeating it', async () => {
    const log = memoryLogger()
    const s = await setup('enforce', 'allow', log.logger)
    try {
      writeFileSync(join(s.dir, 'other.yaml'), `agent: ${s.other}\nrules: []\n`)
      const started = Date.now()
      while (!log.text().includes('other.yaml') && Date.now() - started < 2000) await sleep(50)
      expect(log.text()).toContain('other.yaml')
      expect(log.text()).not.toContain(s.other)
      expect(log.text()).not.toContain(s.other.slice(6))
    } finally {
      await teardown(s)
    }
  })
})

describe('a broken policy file whose agent cannot be read', () => {
  it('is logged as denying every agent without a valid policy, which it does', async () => {
    const log = memoryLogger()
    const s = await setup('enforce', 'allow', log.logger)
    try {
      writeFileSync(join(s.dir, 'mystery.yaml'), 'rules:\n  - service: [slack\n')
      const refused = () =>
        log.entries().filter((e) => e.level === 50 && String(e.policyError).includes('mystery.yaml'))
      const started = Date.now()
      while (refused().length === 0 && Date.now() - started < 2000) await sleep(50)
      expect(refused()).toHaveLength(1)
      expect(refused()[0]?.msg).toBe(
        'policy file refused, and it names no readable agent: every agent without a valid policy is denied everything until it is fixed',
      )
      // other-bot has no policy file of its own: it is indeed denied while the file is broken.
      const other = await send(s.h.port, '/slack/anything', { headers: { 'X-Aegis-Agent': s.other } })
      expect(other.status).toBe(403)
      expect(other.headers['x-aegis-block']).toBe('policy_denied')
    } finally {
      await teardown(s)
    }
  })
})

describe('policy_default: deny', () => {
  let s: Setup
  beforeAll(async () => {
    s = await setup('enforce', 'deny')
  })
  afterAll(() => teardown(s))

  it('denies agents that have no policy file', async () => {
    const reply = await send(s.h.port, '/slack/x', { headers: { 'X-Aegis-Agent': s.other } })
    expect(reply.status).toBe(403)
    expect(reply.headers['x-aegis-block']).toBe('policy_denied')
    const allowed = await send(s.h.port, '/slack/api/users.list', {
      headers: { 'X-Aegis-Agent': s.research },
    })
    expect(allowed.status).toBe(200)
  })
})

describe('requests without an agent token while policies apply', () => {
  const cases = [
    { mode: 'enforce', defaultPolicy: 'deny', forwarded: false },
    { mode: 'enforce', defaultPolicy: 'allow', forwarded: false },
    { mode: 'dry-run', defaultPolicy: 'deny', forwarded: true },
    { mode: 'dry-run', defaultPolicy: 'allow', forwarded: true },
  ] as const
  for (const c of cases) {
    it(`${c.mode}, policy_default ${c.defaultPolicy}: anonymity escapes nothing, and the gate says so at start`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'aegis-policies-'))
      writeFileSync(join(dir, 'research-bot.yaml'), RESEARCH)
      const log = memoryLogger()
      // Agent auth off (the default): only the policies stand between an anonymous caller and the key.
      const h = await startHarness({
        gate: { logger: log.logger, policies: { dir, mode: c.mode, defaultPolicy: c.defaultPolicy } },
      })
      try {
        h.add({ name: 'slack-bot', service: 'slack', secret: 'xoxb-anonymous-1' })
        const before = h.upstream.received.length
        const reply = await send(h.port, '/slack/api/admin.users')
        await h.ledger.flush()
        const row = h.ledger.query({ limit: 5 }).find((e) => e.requestId === reply.headers['x-request-id'])
        if (c.forwarded) {
          expect(reply.status).toBe(200)
          expect(row).toMatchObject({ decision: 'allowed', dryRun: 'agent_auth_required', agent: null })
        } else {
          expect(reply.status).toBe(401)
          expect(reply.headers['x-aegis-block']).toBe('agent_auth_required')
          expect(reply.json().detail).toMatch(/Policies are enforced/)
          expect(row).toMatchObject({ decision: 'blocked', code: 'agent_auth_required' })
        }
        expect(h.upstream.received.length - before).toBe(c.forwarded ? 1 : 0)
        const start = log.lines.map((l) => JSON.parse(l)).find((l) => l.anonymous !== undefined)
        expect(start).toMatchObject({
          anonymous: c.mode === 'enforce' ? 'policy-refuses' : 'policy-records',
          msg: expect.stringMatching(/^Requests without an agent token are (refused|forwarded and recorded)/),
        })
      } finally {
        await h.close()
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }

  it('says anonymous requests are open when neither auth nor policies apply', async () => {
    const log = memoryLogger()
    const h = await startHarness({ gate: { logger: log.logger } })
    await h.close()
    expect(log.text()).toContain('"anonymous":"open"')
  })
})
