import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AGENT_TOKEN_PREFIX, agentTokenKey, hashAgentToken, isAgentTokenShape } from '../src/index.js'

const GOOD = `aegis_${'A'.repeat(43)}`

describe('agent token helpers (pure, no store needed)', () => {
  it('hashes to the SHA-256 of the UTF-8 bytes', () => {
    const expected = createHash('sha256').update(GOOD, 'utf8').digest()
    expect(hashAgentToken(GOOD).equals(expected)).toBe(true)
    expect(hashAgentToken(GOOD)).toHaveLength(32)
  })

  it('keys a token by the hex of that hash (what a gate looks an agent up by)', () => {
    expect(agentTokenKey(GOOD)).toBe(hashAgentToken(GOOD).toString('hex'))
    const other = `aegis_${'é'.repeat(10)}${'B'.repeat(33)}` // UTF-8, as hashAgentToken
    expect(agentTokenKey(other)).toBe(createHash('sha256').update(other, 'utf8').digest('hex'))
  })

  it.each([
    ['the shape', GOOD, true],
    ['base64url characters', `aegis_${'-_aZ09'.repeat(7)}x`, true],
    ['one character short', `aegis_${'A'.repeat(42)}`, false],
    ['one character long', `aegis_${'A'.repeat(44)}`, false],
    ['another prefix', `aegiz_${'A'.repeat(43)}`, false],
    ['no prefix', 'A'.repeat(49), false],
    ['a padding character', `aegis_${'A'.repeat(42)}=`, false],
    ['a trailing newline', `${GOOD}\n`, false],
    ['a leading space', ` ${GOOD}`, false],
    ['a non-string', 42, false],
    ['undefined', undefined, false],
  ])('isAgentTokenShape: %s', (_name, token, ok) => {
    expect(isAgentTokenShape(token)).toBe(ok)
  })

  it('the prefix is what every token starts with', () => {
    expect(GOOD.startsWith(AGENT_TOKEN_PREFIX)).toBe(true)
  })
})
