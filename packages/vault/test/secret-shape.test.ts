import { describe, expect, it } from 'vitest'
import { Secret } from '../src/index.js'
import { expectVaultError, newVault, sampleCredential } from './helpers.js'

const STORED = 'xoxb-super-secret-token-4242'
const BODY = 'sk-live-4242-abcd'

/**
 * Secrets the gate could not recognise in traffic. Every write path refuses them with a message
 * naming the problem and never the value: padded (an upstream trims, then echoes what it used),
 * control characters, too short for the matcher.
 */
const refused: [why: string, secret: string, message: RegExp][] = [
  [
    'a trailing newline (echo without -n)',
    `${BODY}\n`,
    /^secret has a trailing newline \(LF\): remove surrounding whitespace/,
  ],
  ['a trailing CRLF', `${BODY}\r\n`, /^secret has a trailing newline \(LF\)/],
  ['a trailing space', `${BODY} `, /^secret has a trailing space: remove surrounding whitespace/],
  ['a leading space', ` ${BODY}`, /^secret has a leading space/],
  ['a trailing tab', `${BODY}\t`, /^secret has a trailing tab/],
  ['a leading byte-order mark', `\ufeff${BODY}`, /^secret has a leading byte-order mark/],
  ['a trailing no-break space', `${BODY}\u00a0`, /^secret has a trailing no-break space/],
  ['LF inside', 'sk-live\n4242-abcd', /^secret contains a control character \(newline \(LF\)\)/],
  ['NUL inside', 'sk-live\u00004242-abcd', /^secret contains a control character \(NUL character\)/],
  ['ESC inside', 'sk-live\u001b[0m-4242', /^secret contains a control character \(escape character/],
  ['DEL inside', 'sk-live\u007f4242-abcd', /^secret contains a control character \(delete character/],
  [
    'a C1 control inside',
    'sk-live\u00854242-abcd',
    /^secret contains a control character \(character U\+0085\)/,
  ],
  ['a tab inside', 'sk-live\t4242-abcd', /^secret contains a control character \(tab\)/],
  ['7 bytes', 'abcdefg', /^secret is shorter than 8 bytes \(UTF-8\)/],
  ['6 bytes in two characters', '€€', /^secret is shorter than 8 bytes/],
  ['a lone surrogate', `${BODY}\ud800`, /^secret is not well-formed Unicode/],
]

describe('secrets the gate could not protect are refused on every write path', () => {
  it.each(refused)('add refuses a secret with %s, stores nothing', (_why, secret, message) => {
    const v = newVault()
    const err = expectVaultError(() => v.add(sampleCredential({ secret })), 'invalid_input', message)
    expect(err.message).not.toContain('4242')
    expect(err.message).not.toContain('abcd')
    expect(v.list()).toEqual([])
  })

  it.each(refused)('add refuses it as a Secret object too (%s)', (_why, secret, message) => {
    const v = newVault()
    expectVaultError(() => v.add(sampleCredential({ secret: new Secret(secret) })), 'invalid_input', message)
    expect(v.list()).toEqual([])
  })

  it.each(refused)('rotate refuses a secret with %s, keeps the old one', (_why, secret, message) => {
    const v = newVault()
    v.add(sampleCredential())
    const before = v.changeToken()
    const err = expectVaultError(() => v.rotate('slack-bot', secret), 'invalid_input', message)
    expect(err.message).not.toContain('4242')
    expect(v.get('slack-bot')?.secret.reveal()).toBe(STORED)
    expect(v.get('slack-bot')?.rotatedAt).toBeNull()
    expect(v.changeToken()).toBe(before)
  })

  it.each([
    ['bearer', {}],
    ['header', { authType: 'header', headerName: 'X-Api-Key' }],
  ] as const)('add refuses a %s secret a header cannot carry (past U+00FF)', (authType, auth) => {
    const v = newVault()
    const err = expectVaultError(
      () => v.add(sampleCredential({ secret: '秘密-sk-live-4242', ...auth })),
      'invalid_input',
      new RegExp(
        `^secret has a character beyond U\\+00FF, which an HTTP header cannot carry: authType "${authType}"`,
      ),
    )
    expect(err.message).not.toContain('秘')
    expect(v.list()).toEqual([])
  })

  it.each([['basic'], ['query']] as const)(
    'add keeps such a secret for %s (base64 and percent-encoding carry it)',
    (authType) => {
      const v = newVault()
      v.add(sampleCredential({ secret: '秘密-sk-live-4242', authType }))
      expect(v.get('slack-bot')?.secret.reveal()).toBe('秘密-sk-live-4242')
    },
  )

  it('update cannot write a secret at all', () => {
    const v = newVault()
    v.add(sampleCredential())
    expectVaultError(
      () => v.update('slack-bot', { secret: 'abc' } as never),
      'invalid_input',
      /unknown field "secret"/,
    )
    expect(v.get('slack-bot')?.secret.reveal()).toBe(STORED)
  })

  it.each([
    ['exactly 8 bytes', 'abcdefgh'],
    ['8 bytes in four characters', 'éééé'],
    ['inner spaces', 'user name:pass word'],
  ])('accepts %s', (_why, secret) => {
    const v = newVault()
    v.add(sampleCredential({ secret }))
    expect(v.get('slack-bot')?.secret.reveal()).toBe(secret)
    v.rotate('slack-bot', `${secret}-2`)
    expect(v.get('slack-bot')?.secret.reveal()).toBe(`${secret}-2`)
  })
})
