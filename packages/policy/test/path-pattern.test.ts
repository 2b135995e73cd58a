import { describe, expect, it } from 'vitest'
import { compilePathPattern, literalPrefix, MAX_MATCHED_PATH_LENGTH } from '../src/path-pattern.js'

function compile(source: string) {
  const result = compilePathPattern(source, 1)
  if (!result.ok) throw new Error(result.reason)
  return result.pattern
}

function refusal(source: string): string {
  const result = compilePathPattern(source, 1)
  if (result.ok) throw new Error(`pattern ${source} was accepted`)
  return result.reason
}

describe('path patterns are anchored on the whole path', () => {
  it('the brief example matches the endpoint family and nothing around it', () => {
    const p = compile('/api/conversations.*')
    expect(p.matches('/api/conversations.list')).toBe(true)
    expect(p.matches('/api/conversations.history')).toBe(true)
    expect(p.matches('/api/conversations')).toBe(true)
    expect(p.matches('/x/api/conversations.list')).toBe(false)
    expect(p.matches('api/conversations.list')).toBe(false)
    expect(p.matches('/api/chat.postMessage')).toBe(false)
  })

  it('never matches a substring: prefix, suffix and traversal tricks', () => {
    const p = compile('/api/conversations\\.list')
    expect(p.matches('/api/conversations.list')).toBe(true)
    expect(p.matches('/api/conversations.list/../../admin')).toBe(false)
    expect(p.matches('/admin/api/conversations.list')).toBe(false)
    expect(p.matches('/api/conversations.list?x=1')).toBe(false)
    expect(p.matches('/api/conversations.list/')).toBe(false)
    expect(p.matches('/api/conversationsXlist')).toBe(false)
  })

  it('a pattern cannot escape the anchors with alternation', () => {
    const p = compile('/a|/b')
    expect(p.matches('/a')).toBe(true)
    expect(p.matches('/b')).toBe(true)
    expect(p.matches('/a/admin')).toBe(false)
    expect(p.matches('/admin/b')).toBe(false)
    expect(refusal('/a)|(.*')).toMatch(/invalid regular expression/)
  })

  it('user anchors are harmless', () => {
    const p = compile('^/repos/myorg/.*$')
    expect(p.matches('/repos/myorg/app/issues')).toBe(true)
    expect(p.matches('/repos/other/app')).toBe(false)
  })

  it('a literal path matches exactly, case-sensitively', () => {
    const p = compile('/api/auth-test')
    expect(p.matches('/api/auth-test')).toBe(true)
    expect(p.matches('/API/auth-test')).toBe(false)
    expect(p.matches('/api/auth-test/')).toBe(false)
    expect(p.matches('/api/auth-testx')).toBe(false)
  })

  it('"." in a pattern is any character; \\. is a dot', () => {
    expect(compile('/api/auth.test').matches('/api/authXtest')).toBe(true)
    expect(compile('/api/auth\\.test').matches('/api/authXtest')).toBe(false)
  })

  it('segment patterns do not cross slashes', () => {
    const p = compile('/repos/[^/]+/[^/]+/pulls/[0-9]+')
    expect(p.matches('/repos/org/app/pulls/12')).toBe(true)
    expect(p.matches('/repos/org/app/x/pulls/12')).toBe(false)
  })

  it('paths longer than the limit never match', () => {
    const p = compile('/files/.*')
    expect(p.matches(`/files/${'a'.repeat(MAX_MATCHED_PATH_LENGTH)}`)).toBe(false)
    expect(p.matches(`/files/${'a'.repeat(100)}`)).toBe(true)
  })
})

describe('invalid and risky patterns are refused at load', () => {
  it('syntax errors name the problem', () => {
    expect(refusal('/api/(unclosed')).toBe('invalid regular expression: Unterminated group')
    expect(refusal('/api/[z-a]')).toMatch(/^invalid regular expression: Range out of order/)
    expect(refusal('/api/{')).toMatch(/^invalid regular expression/)
  })

  it('patterns that can never match a gate path are refused', () => {
    expect(refusal('api/users')).toMatch(/can never match: gate paths start with \//)
    expect(refusal('api/.*')).toMatch(/can never match/)
  })

  it('glob and route-template habits are refused with what to write instead', () => {
    // `/repos/myorg/*` loaded and matched only /repos/myorg, /repos/myorg/ and /repos/myorg//.
    const hint =
      'patterns are regular expressions, not globs: write /.* for any path below, [^/]+ for one segment'
    expect(refusal('/repos/myorg/*')).toBe(`"/*" repeats the slash: ${hint}`)
    expect(refusal('/a/(b|c/*)')).toBe(`"/*" repeats the slash: ${hint}`)
    expect(refusal('/api/**')).toBe(`invalid regular expression: Nothing to repeat (${hint})`)
    expect(refusal('/users/{id}')).toBe(`invalid regular expression: Incomplete quantifier (${hint})`)
    // A repeated slash inside a wider set, an escaped star, and the regex spellings still load.
    expect(compile('/a[/x]*').matches('/a/x/')).toBe(true)
    expect(compile('/a/\\*').matches('/a/*')).toBe(true)
    expect(compile('/repos/myorg/.*').matches('/repos/myorg/app')).toBe(true)
    expect(refusal('/api/(unclosed')).toBe('invalid regular expression: Unterminated group')
  })

  it('literal paths the gate refuses, and characters a gate path never holds, are refused too', () => {
    // Each loaded as a valid rule that silently matched nothing.
    expect(refusal('/files/a%2Fb')).toBe(
      'path pattern "/files/a%2Fb" can never match: the gate refuses it (percent-encoded slash in path)',
    )
    expect(refusal('/files/%2e%2e/x')).toMatch(
      /can never match: the gate refuses it \(percent-encoded dot segment/,
    )
    expect(refusal('/a%zz')).toMatch(/can never match: the gate refuses it \(malformed percent-encoding/)
    expect(refusal('/wiki/Café')).toBe(
      'path pattern holds U+00E9 (a space, control or non-ASCII character), which a gate path never does: write it percent-encoded as clients send it (é is %C3%A9)',
    )
    expect(refusal('/api/users ')).toMatch(/^path pattern holds U\+0020 /)
    expect(refusal('/\u200bapi')).toMatch(/^path pattern holds U\+200B /)
    expect(refusal('/wiki/(Café|Cafe)')).toMatch(/^path pattern holds U\+00E9 /)
    expect(refusal('/a\tb.*')).toMatch(/^path pattern holds U\+0009 /)
    // What clients really send still loads, and matches.
    expect(compile('/wiki/Caf%C3%A9').matches('/wiki/Caf%C3%A9')).toBe(true)
    expect(compile('/a//b').matches('/a//b')).toBe(true)
    expect(compile('/files/\\p{L}+').matches('/files/abc')).toBe(true)
  })

  const exponential = [
    '/(a+)+',
    '/(.*)*',
    '/(a*)*b',
    '/(?:[a-z]+/)*',
    '/(a?a)*',
    '/(x+x+)+y',
    '/(a+){2,}',
    '/(a+){2,5}',
  ]
  for (const source of exponential) {
    it(`nested quantifier ${source} is refused`, () => {
      expect(refusal(source)).toMatch(/^nested quantifier/)
    })
  }

  const ambiguous = ['/(a|a)*', '/(a|ab)+', '/(?:x|x)*y', '/(a|)*', '/((a|a)b)*', '/([a-z]|[0-9a])*']
  for (const source of ambiguous) {
    it(`ambiguous alternation ${source} is refused`, () => {
      expect(refusal(source)).toMatch(/^ambiguous alternatives/)
    })
  }

  const polynomial = [
    '/.*a.*a.*b',
    '/.*.*.*',
    '/x/.*/.*/.*',
    '/.{0,100}.{0,100}.{0,100}',
    '/(?:.*x|y).*.*',
    '/(?:.*.*.*)?',
    '/(?:a.*)?(?:b.*)?(?:c.*)?',
    // found by fuzzing: chains hidden in optional groups, or bridged by a disjoint optional quantifier
    '/.+(?:[a-z]*\\d{1,3}|[^/]+(x)+.?)?\\.',
    '/(?:[^/]{1,3}[a-z]{2,})(?:a|b)*(?:\\d{0,20}[ab/]{2,})[a-z]?',
    '/[a-z]*[0-9]*[a-z]*',
  ]
  for (const source of polynomial) {
    it(`overlapping wide quantifiers ${source} are refused`, () => {
      expect(refusal(source)).toMatch(/^more than 2 wide quantifiers/)
    })
  }

  // Narrow choices multiply a run's backtracking: each was accepted, and took the time noted on a
  // 4096-character hostile path (the gate's event loop is blocked meanwhile).
  const choices = [
    `/${'.{0,8}'.repeat(10)}z`, // 12 s
    `/.*${'a?'.repeat(14)}z`, // 265 ms
    `/${'a?'.repeat(26)}${'a'.repeat(26)}`, // 530 ms
    `/${'[a-z]{0,8}'.repeat(8)}z`, // 250 ms
    `/${'(?:a|aa)'.repeat(24)}z`, // 50 ms, doubling with each group
    '/.*a?.*z', // 19 ms: any narrow choice beside two wide quantifiers
  ]
  for (const source of choices) {
    it(`a run of narrow choices ${source.slice(0, 40)} is refused`, () => {
      expect(refusal(source)).toMatch(/^too many optional or bounded parts in a row/)
    })
  }

  it('accepted patterns with narrow choices stay fast on hostile paths', () => {
    for (const source of [
      `/.*${'a?'.repeat(6)}z`,
      `/${'a?'.repeat(12)}${'a'.repeat(12)}`,
      `/${'(?:a|aa)'.repeat(12)}z`,
      `/${'[a-z]{1,3}'.repeat(7)}z`,
    ]) {
      const p = compile(source)
      const started = performance.now()
      for (const path of [`/${'a'.repeat(4094)}`, `/${'a'.repeat(40)}`]) expect(p.matches(path)).toBe(false)
      expect(performance.now() - started, source).toBeLessThan(50)
    }
  })

  it('back-references are refused', () => {
    expect(refusal('/(a)\\1')).toMatch(/back-references/)
    expect(refusal('/(?<x>a)\\k<x>')).toMatch(/back-references/)
  })

  const fine = [
    '/api/conversations.*',
    '/repos/myorg/.*',
    '/repos/[^/]+/[^/]+/issues/[0-9]+(/comments)?',
    '/v1/(users|groups)/[a-z0-9-]+',
    '/a/(?:x|y)*',
    '/files/.*\\.json',
    '/api/.*/messages/.*',
    '/(?!admin)[a-z]+/.*',
    '/x{1,3}',
    '/api/[^/]+/v[0-9]{1,2}/.*',
    '/x/[a-z]{2,4}-[0-9]{1,5}/.*',
  ]
  for (const source of fine) {
    it(`reasonable pattern ${source} is accepted`, () => {
      expect(compilePathPattern(source, 1).ok).toBe(true)
    })
  }

  it('accepted patterns with two overlapping wildcards stay fast on hostile paths', () => {
    const p = compile('/api/.*/messages/.*x')
    const hostile = `/api/${'/messages/'.repeat(400)}`.slice(0, MAX_MATCHED_PATH_LENGTH)
    expect(p.matches(hostile)).toBe(false)
  })
})

describe('the literal prefix checked before the regex', () => {
  it('is the leading plain text, short of a quantified last character', () => {
    expect(literalPrefix('/api/conversations.*')).toBe('/api/conversations')
    expect(literalPrefix('/other1/.*')).toBe('/other1/')
    expect(literalPrefix('/v[0-9]+/users')).toBe('/v')
    expect(literalPrefix('/abc?')).toBe('/ab')
    expect(literalPrefix('/ab*c')).toBe('/a')
    expect(literalPrefix('/ab+')).toBe('/a')
    expect(literalPrefix('/ab{2}')).toBe('/a')
    expect(literalPrefix('/a\\.b')).toBe('/a')
    expect(literalPrefix('(/a)')).toBe('')
  })

  it('is empty for an alternation anywhere and stops at non-ASCII text', () => {
    expect(literalPrefix('/a|/b')).toBe('')
    expect(literalPrefix('/x/(a|b)')).toBe('')
    expect(literalPrefix('/caf\u00e9.*')).toBe('/caf')
    expect(literalPrefix('/café.*')).toBe('/caf')
    expect(literalPrefix('/a😀?')).toBe('/a')
  })

  it('never turns away a path the regex matches', () => {
    const cases: Array<[string, string[]]> = [
      ['/abc?', ['/ab', '/abc']],
      ['/ab*c', ['/ac', '/abbbc']],
      ['/ab{0,2}', ['/a', '/abb']],
      ['/a|/b', ['/a', '/b']],
      ['/v[0-9]{1,2}/(users|teams)/.*', ['/v1/users/x', '/v42/teams/']],
    ]
    for (const [source, paths] of cases) {
      const p = compile(source)
      for (const path of paths) expect(p.matches(path), `${source} on ${path}`).toBe(true)
    }
    expect(compile('/other1/.*').matches('/x')).toBe(false)
    expect(compile('/abc?').matches('/a')).toBe(false)
    // A raw emoji never reaches a policy (clients send it percent-encoded): refused at load.
    expect(refusal('/a😀?')).toMatch(/^path pattern holds U\+1F600 /)
  })
})
