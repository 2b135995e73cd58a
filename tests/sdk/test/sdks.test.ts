import Anthropic from '@anthropic-ai/sdk'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { Octokit } from '@octokit/rest'
import { WebClient } from '@slack/web-api'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SECRETS, startWorld, type World } from './fixtures/world.js'

/**
 * The SDKs agents already use, unchanged, pointed at a real gate with `--require-agent-auth`. Each
 * gets the agent token as its API key (the key slot, not X-Aegis-Agent), and for each: one call
 * succeeds with the vault credential injected, one refusal shows the gate's `detail` and `code` in the
 * exception the SDK raises, and where the API streams, the first event arrives before the upstream
 * has sent the last one.
 */
let w: World
beforeAll(async () => {
  w = await startWorld()
})
afterAll(() => w?.close())

/** The refusal every SDK below meets: the `locked` credential exists, alice is not granted it. */
const REFUSAL_DETAIL = 'Agent "alice" is not granted credential "locked-key"'
const REFUSAL_CODE = 'grant_denied'

/** The upstream saw the vault secret and never the agent token. */
function expectInjected(secret: string): void {
  const got = w.upstream.received.at(-1)
  expect(JSON.stringify(got?.rawHeaders)).toContain(secret)
  expect(JSON.stringify(got)).not.toContain(w.token)
}

/** The exception an SDK call raised. */
async function failure(call: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await call()
  } catch (error) {
    return error as Error & Record<string, unknown>
  }
  throw new Error('expected the call to be refused')
}

/** Reads a stream, checking on its first event that the upstream still holds the last one. */
async function expectIncremental<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const finishedBefore = w.upstream.streamsFinished
  const events: T[] = []
  for await (const event of stream) {
    if (events.length === 0) {
      expect(w.upstream.streamsFinished, 'first event arrived only after the upstream finished').toBe(
        finishedBefore,
      )
      w.upstream.release()
    }
    events.push(event)
  }
  expect(w.upstream.streamsFinished).toBe(finishedBefore + 1)
  return events
}

describe('openai', () => {
  const client = (service = 'openai') =>
    new OpenAI({ apiKey: w.token, baseURL: `${w.gateUrl}/${service}/v1`, maxRetries: 0 })

  it('a chat completion succeeds with the vault key injected', async () => {
    const reply = await client().chat.completions.create({
      model: 'gpt-x',
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(reply.choices[0]?.message.content).toBe('Hello')
    expect(w.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRETS.openai}`)
    expectInjected(SECRETS.openai)
  })

  it('streams: the first chunk arrives before the upstream sends the last', async () => {
    const stream = await client().chat.completions.create({
      model: 'gpt-x',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    })
    const chunks = await expectIncremental(stream)
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello')
    expectInjected(SECRETS.openai)
  })

  it("a refusal shows the gate's detail and code in the exception message", async () => {
    const error = await failure(() =>
      client('locked').chat.completions.create({
        model: 'gpt-x',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    )
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(error.message).toBe(`403 ${REFUSAL_DETAIL} (aegis: ${REFUSAL_CODE})`)
    expect(error.code).toBe(REFUSAL_CODE)
  })
})

describe('@anthropic-ai/sdk', () => {
  const client = (service = 'anthropic') =>
    new Anthropic({ apiKey: w.token, baseURL: `${w.gateUrl}/${service}`, maxRetries: 0 })
  const ask = { model: 'claude-x', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] }

  it('a message succeeds with the vault key injected as x-api-key', async () => {
    const reply = await client().messages.create(ask)
    expect(reply.content[0]).toMatchObject({ type: 'text', text: 'Hello' })
    expect(w.upstream.received.at(-1)?.headers['x-api-key']).toBe(SECRETS.anthropic)
    expectInjected(SECRETS.anthropic)
  })

  it('streams: the first event arrives before the upstream sends the last', async () => {
    const events = await expectIncremental(await client().messages.create({ ...ask, stream: true }))
    expect(events[0]?.type).toBe('message_start')
    expect(events.at(-1)?.type).toBe('message_stop')
    expectInjected(SECRETS.anthropic)
  })

  it("a refusal shows the gate's detail and code in the exception message", async () => {
    const error = await failure(() => client('locked').messages.create(ask))
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError)
    expect(error.message).toContain(`403 ${REFUSAL_DETAIL} (aegis: ${REFUSAL_CODE})`)
    expect(error.type).toBe(REFUSAL_CODE)
    // The SDK's request id is the gate's, so the ledger row can be found from the error.
    expect(error.requestID).toMatch(/^[0-9a-f-]{36}$/)
    expect(error.requestID).toBe((error.headers as Headers).get('x-request-id'))
  })
})

describe('a credential the upstream echoes split across events, joined by the SDK', () => {
  it('openai, n=2: the choice holding it, one character per event, interleaved with the other', async () => {
    const client = new OpenAI({ apiKey: w.token, baseURL: `${w.gateUrl}/openai/v1`, maxRetries: 0 })
    const stream = await client.chat.completions.create({
      model: 'echo-key-n2',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      n: 2,
    })
    const byChoice: string[] = []
    for await (const chunk of stream) {
      for (const choice of chunk.choices)
        byChoice[choice.index] = (byChoice[choice.index] ?? '') + (choice.delta.content ?? '')
    }
    // A start of 3 bytes or fewer (`sk-`) holds no event back; the rest of the key is redacted.
    expect(byChoice[0]).toMatch(/^.{0,3}\[REDACTED\]$/)
    expect(byChoice[0]).not.toContain(SECRETS.openai.slice(0, 4))
    expect(byChoice[1]).toHaveLength(SECRETS.openai.length)
  })

  it('anthropic: its start in content_block_start, 300 pings, then a character per delta', async () => {
    const client = new Anthropic({ apiKey: w.token, baseURL: `${w.gateUrl}/anthropic`, maxRetries: 0 })
    const stream = client.messages.stream({
      model: 'echo-key-split',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    })
    const message = await stream.finalMessage()
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
    expect(text).toBe('[REDACTED][REDACTED]')
  })
})

describe('@octokit/rest', () => {
  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
  const client = (service = 'github') =>
    new Octokit({ auth: w.token, baseUrl: `${w.gateUrl}/${service}`, log: quiet })

  it('a repository read succeeds with the vault token injected', async () => {
    const { data } = await client().repos.get({ owner: 'o', repo: 'r' })
    expect(data.full_name).toBe('o/r')
    expect(w.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRETS.github}`)
    expectInjected(SECRETS.github)
  })

  it('paginate follows every Link page through the gate, each with the vault token', async () => {
    const before = w.upstream.received.length
    const issues = await client().paginate(client().issues.listForRepo, {
      owner: 'o',
      repo: 'r',
      per_page: 2,
    })
    expect(issues.map((i) => i.number)).toEqual([1, 2, 3, 4, 5, 6])
    const pages = w.upstream.received.slice(before)
    expect(pages.map((r) => r.url)).toEqual([
      '/repos/o/r/issues?per_page=2',
      '/repositories/1/issues?per_page=2&page=2',
      '/repositories/1/issues?per_page=2&page=3',
    ])
    for (const page of pages) {
      expect(page.headers.authorization).toBe(`Bearer ${SECRETS.github}`)
      expect(JSON.stringify(page)).not.toContain(w.token)
    }
  })

  it("a refusal shows the gate's detail and code in the exception message", async () => {
    const error = await failure(() => client('locked').repos.get({ owner: 'o', repo: 'r' }))
    expect(error.status).toBe(403)
    expect(error.message).toContain(REFUSAL_DETAIL.replaceAll('"', '\\"'))
    expect(error.message).toContain(REFUSAL_CODE)
  })

  it('a refusal is readable as the README says: X-Aegis-Block, and the body text parsed as JSON', async () => {
    // @octokit/request parses an error body only for application/json (and scim+json); the
    // interface makes every refusal application/problem+json, so data is the document's text.
    const error = await failure(() => client('locked').repos.get({ owner: 'o', repo: 'r' }))
    const response = error.response as { headers: Record<string, string>; data: unknown }
    expect(response.headers['x-aegis-block']).toBe(REFUSAL_CODE)
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(typeof response.data).toBe('string')
    expect(JSON.parse(response.data as string)).toMatchObject({ code: REFUSAL_CODE, detail: REFUSAL_DETAIL })
    expect(error.message).toBe(response.data)
  })
})

describe('@slack/web-api', () => {
  const client = (service = 'slack') =>
    new WebClient(w.token, { slackApiUrl: `${w.gateUrl}/${service}/api/`, retryConfig: { retries: 0 } })

  it('chat.postMessage succeeds with the vault token injected', async () => {
    const reply = await client().chat.postMessage({ channel: 'C1', text: 'hello' })
    expect(reply.ok).toBe(true)
    expect(reply.channel).toBe('C1')
    expect(w.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRETS.slack}`)
    expectInjected(SECRETS.slack)
  })

  it("a refusal carries the gate's detail and code (Slack's message holds only the status)", async () => {
    const error = await failure(() => client('locked').chat.postMessage({ channel: 'C1', text: 'hello' }))
    // @slack/web-api builds "An HTTP protocol error occurred: statusCode = 403" for every non-200
    // answer and keeps the parsed body on `err.body` (errors.js WebAPIHTTPError): that is where the
    // document is, and where Slack users look.
    expect(error.message).toContain('statusCode = 403')
    expect(error.body).toMatchObject({ detail: REFUSAL_DETAIL, code: REFUSAL_CODE })
    expect((error.body as { error: { message: string } }).error.message).toBe(
      `${REFUSAL_DETAIL} (aegis: ${REFUSAL_CODE})`,
    )
  })
})

describe('MCP SDK client (streamable HTTP, agent token as Bearer)', () => {
  let client: Client
  beforeAll(async () => {
    client = new Client({ name: 'sdk-agent', version: '1.0.0' })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(w.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${w.token}` } },
      }),
    )
  })
  afterAll(() => client?.close())

  const call = async (service: string) =>
    (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service, method: 'GET', path: '/repos/o/r' },
    })) as CallToolResult
  const text = (result: CallToolResult) => (result.content[0] as { text: string }).text

  it('a proxied call succeeds with the vault token injected', async () => {
    const result = await call('github')
    expect(result.isError).not.toBe(true)
    expect(text(result)).toContain('o/r')
    expectInjected(SECRETS.github)
  })

  it("a refusal is an error result whose text carries the gate's detail, code and error member", async () => {
    const result = await call('locked')
    expect(result.isError).toBe(true)
    expect(JSON.parse(text(result))).toMatchObject({
      detail: REFUSAL_DETAIL,
      code: REFUSAL_CODE,
      error: { message: `${REFUSAL_DETAIL} (aegis: ${REFUSAL_CODE})`, code: REFUSAL_CODE },
    })
  })
})

describe('openai: a call the agent aborts (AbortSignal) while the upstream has not answered', () => {
  it('raises APIUserAbortError; the gate aborts upstream and records client_closed', async () => {
    const openai = new OpenAI({ apiKey: w.token, baseURL: `${w.gateUrl}/openai/v1`, maxRetries: 0 })
    const abandoned = w.upstream.abandoned
    const signal = AbortSignal.timeout(300)
    const error = await failure(() =>
      openai.chat.completions.create(
        { model: 'hang', messages: [{ role: 'user', content: 'hi' }] },
        { signal },
      ),
    )
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError)
    await expect.poll(() => w.upstream.abandoned, { timeout: 3000 }).toBe(abandoned + 1)
    await w.ledger.flush()
    const row = w.ledger
      .query({ limit: 100 })
      .find((e) => e.service === 'openai' && e.code === 'client_closed')
    expect(row).toMatchObject({ agent: 'alice', decision: 'failed' })
    w.upstream.release()
  })
})

describe('a vault sealed and unsealed again', () => {
  it('openai: refused 503 sealed while sealed; the very next call after the unseal succeeds', async () => {
    const openai = new OpenAI({ apiKey: w.token, baseURL: `${w.gateUrl}/openai/v1`, maxRetries: 0 })
    const ask = { model: 'gpt-x', messages: [{ role: 'user' as const, content: 'hi' }] }
    w.seal()
    try {
      const error = await failure(() => openai.chat.completions.create(ask))
      expect(error).toBeInstanceOf(OpenAI.InternalServerError)
      expect(error.code).toBe('sealed')
      // Past a poll (250 ms): the gate now holds the snapshot it read while sealed, which is empty.
      await new Promise((r) => setTimeout(r, 400))
    } finally {
      w.unseal()
    }
    const reply = await openai.chat.completions.create(ask)
    expect(reply.choices[0]?.message.content).toBe('Hello')
    expectInjected(SECRETS.openai)
  })
})

describe('the ledger', () => {
  it('holds the calls, the agent, and never the token', async () => {
    await w.ledger.flush()
    const entries = w.ledger.query({ limit: 100 })
    expect(entries.some((e) => e.agent === 'alice' && e.decision === 'allowed')).toBe(true)
    expect(JSON.stringify(entries)).not.toContain(w.token)
  })
})
