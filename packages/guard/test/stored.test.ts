import { describe, expect, it } from 'vitest'
import { parseStoredSettings } from '../src/index.js'

describe('parseStoredSettings: a stored allowlist and rate, as the gate serves them', () => {
  it('parses what the vault wrote', () => {
    const settings = parseStoredSettings(['api.example.test', '*.example.test'], '100/min')
    expect(settings.ok).toBe(true)
    if (!settings.ok) return
    expect(settings.domains.map((d) => d.text)).toEqual(['api.example.test', '*.example.test'])
    expect(settings.rate?.text).toBe('100/min')
    expect(parseStoredSettings(['api.example.test'], null)).toMatchObject({ ok: true, rate: null })
  })

  const damaged: [why: string, domains: string[], rate: string | null, problem: RegExp][] = [
    ['no domain (every request would be refused, silently)', [], null, /^has no stored domain$/],
    [
      'a domain with a space',
      ['api.example.test', 'not a domain'],
      null,
      /^has an invalid stored domain: Invalid domain "not a domain"/,
    ],
    ['a URL instead of a host', ['https://api.example.test/x'], null, /^has an invalid stored domain: /],
    ['a bare wildcard', ['*'], null, /^has an invalid stored domain: /],
    ['a public-suffix wildcard', ['*.com'], null, /^has an invalid stored domain: /],
    [
      'a rate that does not parse (it would not be enforced)',
      ['api.example.test'],
      'lots',
      /^has an invalid stored rate limit: /,
    ],
    ['a zero rate', ['api.example.test'], '0/min', /^has an invalid stored rate limit: /],
  ]
  it.each(damaged)('refuses %s', (_why, domains, rate, problem) => {
    const settings = parseStoredSettings(domains, rate)
    expect(settings.ok).toBe(false)
    if (!settings.ok) expect(settings.problem).toMatch(problem)
  })
})
