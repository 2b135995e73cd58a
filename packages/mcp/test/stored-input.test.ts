import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../proxy/test/fixtures/log.js'
import { call, problemOf, startWorld, type World } from './fixtures/world.js'

/**
 * The MCP channel feeds the same sanitiser: a token or key the agent puts in a tool call's service,
 * path or target host reaches neither the ledger, the log nor the problem document.
 */
const VAULT = 'vk0123456789abcdefmcp98765'
const GHP = ['gh', 'p_', 'fake0key'.repeat(5).slice(0, 36)].join('')

describe('MCP: nothing the agent sent brings a secret into the ledger, the log or the problem', () => {
  const log = memoryLogger()
  let w: World
  let alice: string
  let bob: string
  beforeAll(async () => {
    w = await startWorld({ pipeline: { logger: log.logger } })
    w.add({ name: 'api', service: 'api', secret: VAULT })
    alice = w.vault.addAgent({ name: 'alice' }).token
    bob = w.vault.addAgent({ name: 'bob' }).token
    w.vault.grant('alice', 'api')
    w.gate.refresh()
    w.pipeline.refresh()
  })
  afterAll(() => w.close())

  const secrets = (): Array<[string, string]> => [
    ["the caller's token", alice],
    ["another agent's token", bob],
    ['a vault secret', VAULT],
    ['a vault secret, base64', Buffer.from(VAULT).toString('base64')],
    ['a ghp_ key', GHP],
  ]
  const calls: Array<[string, (s: string) => Record<string, unknown>]> = [
    ['as the service', (s) => ({ service: s, path: '/x' })],
    ['in the path of an unknown service', (s) => ({ service: 'nosuch', path: `/${s}` })],
    ['in a refused path', (s) => ({ service: 'api', path: `/a/../${s}` })],
    ['in a refused target host', (s) => ({ service: 'api', path: '/x', targetHost: `${s}.evil.test` })],
    ['in the path to a refused host', (s) => ({ service: 'api', path: `/${s}`, targetHost: 'evil.test' })],
    ['as the method', (s) => ({ service: 'api', path: '/x', method: s })],
  ]
  for (const [where, args] of calls) {
    it(`a secret ${where}`, async () => {
      const client = await w.connect({ agentToken: alice })
      for (const [name, secret] of secrets()) {
        const before = log.lines.length
        const problem = problemOf(await call(client, 'aegis_proxy_request', args(secret)))
        await w.ledger.flush()
        const row = w.ledger.query({ limit: 5 }).find((e) => e.requestId === problem.instance)
        expect(row, name).toMatchObject({ channel: 'mcp', decision: 'blocked' })
        for (const text of [JSON.stringify(row), log.lines.slice(before).join(''), JSON.stringify(problem)]) {
          expect(text, name).not.toContain(secret)
        }
      }
    })
  }

  it('records the refused host, and escapes control characters the agent put in a path', async () => {
    const client = await w.connect({ agentToken: alice })
    const denied = problemOf(
      await call(client, 'aegis_proxy_request', { service: 'api', path: '/x', targetHost: 'evil.test' }),
    )
    const forged = problemOf(
      await call(client, 'aegis_proxy_request', {
        service: 'api',
        path: '/x\n{"level":30,"msg":"forged"}\u202e',
      }),
    )
    await w.ledger.flush()
    const rows = w.ledger.query({ limit: 10 })
    expect(rows.find((e) => e.requestId === denied.instance)?.targetHost).toBe('evil.test')
    const path = rows.find((e) => e.requestId === forged.instance)?.path ?? ''
    expect(path).not.toMatch(/[\n\u202e]/)
    expect(log.lines.every((l) => !l.includes('"msg":"forged"}\n'))).toBe(true)
  })

  it('escapes every bidi, zero-width and invisible character the agent put in a path or target host', async () => {
    const client = await w.connect({ agentToken: alice })
    // RLM, ALM, LRM, ZWSP, ZWJ, first-strong isolate, BOM, soft hyphen, Hangul filler, a tag character.
    const hidden = [
      '\u200f',
      '\u061c',
      '\u200e',
      '\u200b',
      '\u200d',
      '\u2068',
      '\ufeff',
      '\u00ad',
      '\u3164',
      '\u{e0041}',
    ]
    const inPath = problemOf(
      await call(client, 'aegis_proxy_request', { service: 'nosuch', path: `/a${hidden.join('b')}c` }),
    )
    const inHost = problemOf(
      await call(client, 'aegis_proxy_request', {
        service: 'api',
        path: '/x',
        targetHost: `evil.test${hidden.join('')}`,
      }),
    )
    await w.ledger.flush()
    const rows = w.ledger.query({ limit: 10 })
    const path = rows.find((e) => e.requestId === inPath.instance)?.path
    const host = rows.find((e) => e.requestId === inHost.instance)?.targetHost
    expect(path).toBe(
      '/nosuch/a\\u200fb\\u061cb\\u200eb\\u200bb\\u200db\\u2068b\\ufeffb\\u00adb\\u3164b\\udb40\\udc41c',
    )
    expect(host).toBe(
      'evil.test\\u200f\\u061c\\u200e\\u200b\\u200d\\u2068\\ufeff\\u00ad\\u3164\\udb40\\udc41',
    )
    for (const text of [log.lines.join(''), JSON.stringify(inPath), JSON.stringify(inHost)]) {
      for (const char of hidden) expect(text).not.toContain(char)
    }
  })

  it('records a method no ledger row could hold as UNKNOWN, and the ledger stays writable', async () => {
    const client = await w.connect({ agentToken: alice })
    const methods = ['GET\u001b[2J', '=cmd|calc', 'GET /x', 'A'.repeat(40), 'g\u00e9t']
    const instances: string[] = []
    for (const method of methods) {
      const problem = problemOf(
        await call(client, 'aegis_proxy_request', { service: 'api', path: '/x', method }),
      )
      expect(problem.code, method).toBe('bad_request')
      instances.push(String(problem.instance))
    }
    await w.ledger.flush()
    const rows = w.ledger.query({ limit: 20 })
    expect(instances.map((id) => rows.find((e) => e.requestId === id)?.method)).toEqual([
      'UNKNOWN',
      'UNKNOWN',
      'UNKNOWN',
      'UNKNOWN',
      'UNKNOWN',
    ])
    expect(log.lines.join('')).not.toContain('ledger write failed')
    const health = JSON.parse(
      ((await call(client, 'aegis_health', {})).content as Array<{ text: string }>)[0]?.text ?? '{}',
    )
    expect(health.status).toBe('ok')
  })
})
