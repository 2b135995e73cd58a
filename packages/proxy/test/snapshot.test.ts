import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { containsSecret } from '@aegis/inspect'
import { createVault, type Vault } from '@aegis/vault'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LiveState } from '../src/index.js'
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
