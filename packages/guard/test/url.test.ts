import { describe, expect, it } from 'vitest'
import { redactUrlPassword } from '../src/index.js'

describe('redactUrlPassword', () => {
  it.each([
    ['postgres://aegis:s3cr3t@db:5432/aegis', 'postgres://aegis:***@db:5432/aegis'],
    ['redis://:hunter2@127.0.0.1:6379/0', 'redis://:***@127.0.0.1:6379/0'],
    ['postgres://aegis@db/aegis', 'postgres://aegis@db/aegis'],
    // An encoded password is masked whole, not only its decoded prefix.
    ['postgres://u:p%40ss%2Fw@db/x', 'postgres://u:***@db/x'],
  ])('%s', (input, expected) => {
    expect(redactUrlPassword(input)).toBe(expected)
  })

  it('never echoes text that is not a URL (it may be a pasted secret)', () => {
    expect(redactUrlPassword('hunter2')).toBe('(unparseable URL)')
    expect(redactUrlPassword('')).toBe('(unparseable URL)')
  })

  it('masks a password that is not valid percent-encoding instead of throwing', () => {
    expect(redactUrlPassword('postgres://u:pa%zzss@db/x')).toBe('postgres://u:***@db/x')
    expect(redactUrlPassword('redis://:100%@cache:6379')).toBe('redis://:***@cache:6379')
  })

  it('hands the decoded password to a custom mask', () => {
    const seen: string[] = []
    const out = redactUrlPassword('postgres://u:p%40ss@db/x', (password) => {
      seen.push(password)
      return 'xxxxx'
    })
    expect(seen).toEqual(['p@ss'])
    expect(out).toBe('postgres://u:xxxxx@db/x')
  })
})
