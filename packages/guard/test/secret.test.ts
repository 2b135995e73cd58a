import { describe, expect, it } from 'vitest'
import { headerCanCarry, MIN_SECRET_BYTES, type SecretFlaw, secretProblems } from '../src/index.js'

const BODY = 'sk-live-4242-abcd'

describe('secretProblems: what the gate could not protect', () => {
  const cases: [why: string, value: string, first: SecretFlaw, message: RegExp][] = [
    ['echo adds a newline', `${BODY}\n`, 'whitespace', /^secret has a trailing newline \(LF\): remove/],
    ['Windows line ending', `${BODY}\r`, 'whitespace', /^secret has a trailing carriage return \(CR\)/],
    ['trailing space', `${BODY} `, 'whitespace', /^secret has a trailing space:/],
    ['leading space', ` ${BODY}`, 'whitespace', /^secret has a leading space:/],
    ['leading tab', `\t${BODY}`, 'whitespace', /^secret has a leading tab:/],
    ['trailing no-break space', `${BODY}\u00a0`, 'whitespace', /trailing no-break space \(U\+00A0\)/],
    ['byte-order mark from a file', `\ufeff${BODY}`, 'whitespace', /leading byte-order mark \(U\+FEFF\)/],
    ['ideographic space', `${BODY}\u3000`, 'whitespace', /trailing character U\+3000/],
    ['line separator', `${BODY}\u2028`, 'whitespace', /trailing character U\+2028/],
    ['LF inside', 'sk-live\n4242-abcd', 'control', /^secret contains a control character \(newline \(LF\)\)/],
    ['CR inside', 'sk-live\r4242-abcd', 'control', /carriage return \(CR\)/],
    ['NUL inside', 'sk-live\u00004242-abcd', 'control', /NUL character/],
    ['tab inside', 'sk-live\t4242-abcd', 'control', /\(tab\)/],
    ['BEL inside', 'sk-live\u00074242-abcd', 'control', /character U\+0007/],
    ['ESC from a terminal paste', 'sk-live\u001b[0m4242', 'control', /escape character \(ESC\)/],
    ['unit separator', 'sk-live\u001f4242-abcd', 'control', /U\+001F/],
    ['DEL inside', 'sk-live\u007f4242-abcd', 'control', /delete character \(DEL\)/],
    ['C1 control (NEL)', 'sk-live\u00854242-abcd', 'control', /U\+0085/],
    ['C1 control (CSI)', 'sk-live\u009b4242-abcd', 'control', /U\+009B/],
    ['seven ASCII bytes', 'abcdefg', 'short', /^secret is shorter than 8 bytes \(UTF-8\)/],
    ['one byte', 'x', 'short', /shorter than 8 bytes/],
    ['two 3-byte characters (6 bytes)', '€€', 'short', /shorter than 8 bytes/],
    ['padding does not make it long enough', '   abcd   ', 'whitespace', /leading space|trailing space/],
    ['lone high surrogate', `${BODY}\ud800`, 'ill_formed', /^secret is not well-formed Unicode/],
    ['lone low surrogate', `\udc00${BODY}`, 'ill_formed', /not well-formed Unicode/],
  ]
  it.each(cases)('%s', (_why, value, first, message) => {
    const problems = secretProblems(value)
    expect(problems[0]?.flaw).toBe(first)
    expect(problems[0]?.message).toMatch(message)
    for (const p of problems) {
      expect(p.message).not.toContain('sk-live')
      expect(p.message).not.toContain('4242')
      expect(p.message).not.toContain('abcd')
    }
  })

  it('reports every problem of a value (padded and short)', () => {
    expect(secretProblems('  abcd  ').map((p) => p.flaw)).toEqual(['whitespace', 'short'])
  })

  it('measures the length without surrounding whitespace (what a trimming upstream receives)', () => {
    expect(secretProblems(' abcdefg').map((p) => p.flaw)).toEqual(['whitespace', 'short'])
    expect(secretProblems(' abcdefgh').map((p) => p.flaw)).toEqual(['whitespace'])
  })

  const fine: [why: string, value: string][] = [
    ['exactly 8 bytes', 'abcdefgh'],
    ['four 2-byte characters (8 bytes)', 'éééé'],
    ['inner spaces (a passphrase, user:pass)', 'user name:pass word'],
    ['basic credentials', 'alice:s3cr3t-pass'],
    ['JWT-like', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'],
    ['astral characters', 'key-😀😀-value'],
    ['zero-width joiner inside (not a control)', 'abcd\u200dabcd'],
  ]
  it.each(fine)('accepts %s', (_why, value) => {
    expect(secretProblems(value)).toEqual([])
  })

  it('the minimum is 8 bytes', () => {
    expect(MIN_SECRET_BYTES).toBe(8)
  })
})

describe('headerCanCarry: whether a header value can hold the secret (one byte per character)', () => {
  it.each([
    ['ASCII', 'sk-live-4242-abcd', true],
    ['Latin-1 letters', 'sécret-ünïcode-1234', true],
    ['a character past U+00FF', '秘密-secret-1234', false],
    ['an emoji (a surrogate pair)', 'sk-live-\u{1F511}-4242', false],
    ['the euro sign (U+20AC)', 'price-€-4242-abcd', false],
  ])('%s: %s', (_why, value, carried) => {
    expect(headerCanCarry(value)).toBe(carried)
  })
})
