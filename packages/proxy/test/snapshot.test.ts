import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { containsSecret } from '@aegis/inspect'
import { type Credential, createVault, Secret, type Vault } from '@aegis/vault'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildSnapshot, LiveState, type Snapshot } from '../src/snapshot.js'
import { MASTER_KEY } from './fixtures/harness.js'

const found = (state: LiveState, secret: string) =>
  containsSecret(Buffer.from(`x ${secret} y`), state.current.matcher)

describe('LiveState: the secret matcher across snapshots', () => {
  let dataDir: string
  let vault: Vault
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'aegis-snapshot-'))
    vault = createVault({ dataDir, name: 'default', masterKey: MASTER_KEY })
    vault.add({
      name: 'slack-bot',
      service: 'slack',
      secret: 'xoxb-first-secret-value',
      domains: ['slack.com'],
    })
    vault.add({
      name: 'gh',
      service: 'github',
      secret: 'ghs-second-secret-value',
      domains: ['api.github.com'],
    })
  })
  afterEach(() => {
    vault.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('keeps the matcher when only agents, grants or other credential fields change', () => {
    const state = new LiveState({ source: vault })
    const matcher = state.current.matcher
    expect(found(state, 'xoxb-first-secret-value')).toBe(true)

    vault.addAgent({ name: 'bot' })
    vault.grant('bot', 'slack-bot')
    vault.update('gh', { scopes: ['read'] })
    expect(state.refresh()).toBe(true)
    expect(state.current.byService.get('github')?.scopes).toEqual(['read'])
    expect(state.current.agentsByHash.size).toBe(1)
    expect(state.current.matcher).toBe(matcher)
  })

  it('builds a new matcher when a secret is added, rotated or removed', () => {
    const state = new LiveState({ source: vault })
    const first = state.current.matcher

    vault.rotate('slack-bot', 'xoxb-rotated-secret-value')
    expect(state.refresh()).toBe(true)
    expect(state.current.matcher).not.toBe(first)
    expect(found(state, 'xoxb-rotated-secret-value')).toBe(true)
    expect(found(state, 'xoxb-first-secret-value')).toBe(false)

    const second = state.current.matcher
    vault.add({
      name: 'stripe',
      service: 'stripe',
      secret: 'sk-third-secret-value',
      domains: ['api.stripe.com'],
    })
    state.refresh()
    expect(state.current.matcher).not.toBe(second)
    expect(found(state, 'sk-third-secret-value')).toBe(true)

    const third = state.current.matcher
    vault.remove('gh')
    state.refresh()
    expect(state.current.matcher).not.toBe(third)
    expect(found(state, 'ghs-second-secret-value')).toBe(false)
  })
})

/** A credential as any `CredentialSource` may hand it over (not necessarily validated by a vault). */
function credential(overrides: Partial<Omit<Credential, 'secret'>> & { secret: string }): Credential {
  const { secret, ...rest } = overrides
  return {
    id: `id-${rest.name ?? 'c'}`,
    name: 'c',
    service: 'c',
    domains: ['api.example.test'],
    authType: 'bearer',
    headerName: null,
    queryParam: null,
    scopes: ['*'],
    expiresAt: null,
    rateLimit: null,
    bodyInspection: 'block',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    rotatedAt: null,
    ...rest,
    secret: new Secret(secret),
  }
}

/** Whether `text` is found when echoed in JSON with nothing around it (so no padding of its own). */
const matches = (snapshot: Snapshot, text: string) =>
  containsSecret(Buffer.from(`{"token":"${text}"}`), snapshot.matcher)

describe('buildSnapshot: rows the gate cannot use or fully protect', () => {
  it('a source with only loadAll keeps working; a row whose domains or rate do not parse is unavailable', () => {
    const state = new LiveState({
      source: {
        changeToken: () => '1',
        loadAll: () => [
          credential({ name: 'ok', service: 'ok', secret: 'ok-secret-value-1' }),
          credential({
            name: 'dom',
            service: 'dom',
            secret: 'dom-secret-value-2',
            domains: ['not a domain'],
          }),
          credential({ name: 'none', service: 'none', secret: 'none-secret-value-3', domains: [] }),
          credential({ name: 'rate', service: 'rate', secret: 'rate-secret-value-4', rateLimit: 'lots' }),
        ],
      },
    })
    const snapshot = state.current
    expect([...snapshot.byService.keys()]).toEqual(['ok'])
    expect(snapshot.unavailable.get('dom')?.reason).toMatch(/^has an invalid stored domain: /)
    expect(snapshot.unavailable.get('none')?.reason).toBe('has no stored domain')
    expect(snapshot.unavailable.get('rate')).toMatchObject({ name: 'rate', id: 'id-rate' })
    expect(snapshot.unavailable.get('rate')?.reason).toMatch(/^has an invalid stored rate limit: /)
    // Their secrets decrypted, so they are still looked for.
    for (const s of [
      'ok-secret-value-1',
      'dom-secret-value-2',
      'none-secret-value-3',
      'rate-secret-value-4',
    ]) {
      expect(matches(snapshot, s), s).toBe(true)
    }
  })

  it('prefers loadCredentials: damaged rows are unavailable, a readable secret among them is still matched', () => {
    const snapshot = new LiveState({
      source: {
        changeToken: () => '1',
        loadAll: () => {
          throw new Error('loadAll must not be called when loadCredentials exists')
        },
        loadCredentials: () => ({
          credentials: [credential({ name: 'ok', service: 'ok', secret: 'ok-secret-value-1' })],
          unavailable: [
            { id: 'b1', name: 'b1', service: 'b1', reason: 'cannot be decrypted: x', secret: null },
            {
              id: 'b2',
              name: 'b2',
              service: 'b2',
              reason: 'has invalid stored settings',
              secret: new Secret('b2-secret-value'),
            },
          ],
        }),
      },
    }).current
    expect([...snapshot.byService.keys()]).toEqual(['ok'])
    expect([...snapshot.unavailable.keys()]).toEqual(['b1', 'b2'])
    expect(matches(snapshot, 'b2-secret-value')).toBe(true)
  })

  const legacy: [why: string, stored: string, echoed: string, problem: RegExp][] = [
    ['trailing space', 'padded-secret-value ', 'padded-secret-value', /trailing space/],
    ['leading tab', '\tpadded-secret-value', 'padded-secret-value', /leading tab/],
    ['trailing no-break space', 'padded-secret-value\u00a0', 'padded-secret-value', /no-break space/],
    ['short', 'short-7', 'short-7', /shorter than 8 bytes/],
    ['padded to look long', '   sh0rt   ', 'sh0rt', /surrounding whitespace/],
    ['control character', 'ctl-secret\u0007-value', 'ctl-secret\u0007-value', /control character/],
  ]
  it.each(legacy)(
    '%s: served, matched as the upstream receives it, and warned about',
    (_why, stored, echoed, problem) => {
      const snapshot = buildSnapshot('1', [credential({ name: 'legacy', service: 'legacy', secret: stored })])
      expect(snapshot.byService.get('legacy')?.secret).toBe(stored)
      expect(snapshot.warnings).toHaveLength(1)
      expect(snapshot.warnings[0]).toMatchObject({ name: 'legacy', service: 'legacy' })
      expect(snapshot.warnings[0]?.problems.join(' ')).toMatch(problem)
      expect(JSON.stringify(snapshot.warnings)).not.toContain(echoed.trim())
      // What the matcher can see: the trimmed value when it is long enough, never a short one.
      const long = Buffer.byteLength(echoed.trim()) >= 8
      expect(matches(snapshot, echoed.trim())).toBe(long)
    },
  )

  it('a clean credential has no warning and one matcher entry', () => {
    const snapshot = buildSnapshot('1', [credential({ secret: 'clean-secret-value' })])
    expect(snapshot.warnings).toEqual([])
    expect(snapshot.matcher.size).toBe(1)
  })
})
