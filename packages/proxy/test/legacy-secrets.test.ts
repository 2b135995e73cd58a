import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { storeLegacySecret } from '../../vault/test/fixtures/legacy-rows.js'
import { send } from './fixtures/client.js'
import { type Harness, MASTER_KEY, startHarness } from './fixtures/harness.js'
import { memoryLogger } from './fixtures/log.js'

/**
 * Rows stored before the vault refused padded and short secrets (an upgrade). The gate injects the
 * stored bytes; the upstream trims them, and what it echoes is the trimmed value. The gate must
 * recognise that too, and say which credentials it cannot protect.
 */
const LEGACY: [name: string, stored: string, trimmed: string][] = [
  ['trailing-space', 'trailing-secret-value-9999 ', 'trailing-secret-value-9999'],
  ['leading-space', ' leading-secret-value-8888', 'leading-secret-value-8888'],
  ['both-sides', '  both-secret-value-7777\t', 'both-secret-value-7777'],
]
const SHORT = 'sh0rt-7'

let h: Harness
const log = memoryLogger()
beforeAll(async () => {
  h = await startHarness({
    gate: { logger: log.logger },
    prepare: (vault) => {
      for (const [name] of LEGACY) {
        vault.add({ name, service: name, secret: 'placeholder-secret', domains: ['api.example.test'] })
        vault.add({
          name: `${name}-peer`,
          service: `${name}-peer`,
          secret: `peer-${name}-secret`,
          domains: ['api.example.test'],
        })
      }
      vault.add({
        name: 'short',
        service: 'short',
        secret: 'placeholder-secret',
        domains: ['api.example.test'],
      })
      for (const [name, stored] of LEGACY) storeLegacySecret(vault.file, MASTER_KEY, name, stored)
      storeLegacySecret(vault.file, MASTER_KEY, 'short', SHORT)
    },
  })
})
afterAll(() => h.close())

describe('a padded secret stored before the vault refused it', () => {
  it.each(LEGACY)(
    '%s: the echo of what the upstream received is redacted',
    async (name, _stored, trimmed) => {
      const reply = await send(h.port, `/${name}/echo`)
      expect(reply.status).toBe(200)
      // The upstream's HTTP parser drops trailing padding and its auth parser the leading: the
      // trimmed value is the credential it used, and may echo.
      const authorization = String(h.upstream.received.at(-1)?.headers.authorization)
      expect(authorization.split(/\s+/).pop()).toBe(trimmed)
      expect(reply.text).not.toContain(trimmed)
      expect(reply.text).toContain('[REDACTED]')
    },
  )

  it.each(LEGACY)(
    '%s: the trimmed value sent by the agent is refused by inspection',
    async (name, _stored, trimmed) => {
      const before = h.upstream.received.length
      const reply = await send(h.port, `/${name}-peer/x`, { method: 'POST', body: `token=${trimmed}` })
      expect(reply.status).toBe(403)
      expect(reply.headers['x-aegis-block']).toBe('body_inspection')
      expect(h.upstream.received.length).toBe(before)
    },
  )

  it('each is named in a warning at load, without the secret', () => {
    const warnings = log.entries().filter((l) => /^credential secret not fully protected/.test(String(l.msg)))
    for (const [name] of LEGACY) {
      const line = warnings.find((l) => l.credential === name)
      expect(line, name).toMatchObject({ level: 40, service: name })
      expect(JSON.stringify(line?.problems)).toMatch(/surrounding whitespace/)
    }
  })
})

describe('a short secret stored before the vault refused it', () => {
  it('is still served (refusing it would break a working setup) but named in a warning', async () => {
    expect((await send(h.port, '/short/x')).status).toBe(200)
    const line = log
      .entries()
      .find((l) => /^credential secret not fully protected/.test(String(l.msg)) && l.credential === 'short')
    expect(line).toMatchObject({ level: 40, service: 'short' })
    expect(JSON.stringify(line?.problems)).toMatch(/shorter than 8 bytes/)
  })
})

describe('the log', () => {
  it('never holds a secret', () => {
    const text = log.text()
    for (const [, stored, trimmed] of LEGACY) {
      expect(text).not.toContain(stored.trim())
      expect(text).not.toContain(trimmed)
    }
    expect(text).not.toContain(SHORT)
  })
})
