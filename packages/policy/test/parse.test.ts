import { describe, expect, it } from 'vitest'
import { checkPolicy, PolicyError, parsePolicy } from '../src/index.js'

const VALID = `agent: research-bot
rules:
  - service: slack
    methods: [GET]
    paths:
      - /api/conversations.*
      - /api/users.*
    rate_limit: 100/hour
    time_window:
      start: "09:00"
      end: "18:00"
      timezone: "UTC"
  - service: github
    methods: [GET, POST]
    paths:
      - /repos/myorg/.*
    rate_limit: 200/hour
`

function errorOf(yaml: string, file = 'policies/bot.yaml'): PolicyError {
  try {
    parsePolicy(yaml, file)
  } catch (error) {
    if (error instanceof PolicyError) return error
    throw error
  }
  throw new Error('policy was accepted')
}

function messages(yaml: string, file = 'bot.yaml'): string[] {
  const result = checkPolicy(yaml, file)
  if (result.ok) throw new Error('policy was accepted')
  return result.errors.map((e) => e.message)
}

describe('parsePolicy: valid files', () => {
  it('parses the documented example into compiled rules with lines', () => {
    const policy = parsePolicy(VALID, 'policies/research-bot.yaml')
    expect(policy.agent).toBe('research-bot')
    expect(policy.file).toBe('policies/research-bot.yaml')
    expect(policy.rules).toHaveLength(2)
    const [slack, github] = policy.rules
    expect(slack).toMatchObject({
      index: 0,
      line: 3,
      service: 'slack',
      rate: { count: 100, periodMs: 3_600_000, text: '100/hour' },
    })
    expect([...(slack?.methods ?? [])]).toEqual(['GET'])
    expect(slack?.paths?.map((p) => [p.source, p.line])).toEqual([
      ['/api/conversations.*', 6],
      ['/api/users.*', 7],
    ])
    expect(slack?.window).toEqual({ start: 540, end: 1080, timezone: 'UTC', text: '09:00-18:00 UTC' })
    expect(github).toMatchObject({ index: 1, line: 13, service: 'github', window: null })
  })

  it('optional fields left out mean any method, any path, no limit, always', () => {
    const policy = parsePolicy('agent: a\nrules:\n  - service: slack\n', 'a.yaml')
    expect(policy.rules[0]).toMatchObject({ methods: null, paths: null, rate: null, window: null })
  })

  it('an empty rules list is an explicit deny-all policy', () => {
    expect(parsePolicy('agent: a\nrules: []\n', 'a.yaml').rules).toEqual([])
  })

  it('the time zone defaults to UTC and is kept as written', () => {
    const yaml = (tz: string) =>
      `agent: a\nrules:\n  - service: s\n    time_window: { start: "22:00", end: "06:00"${tz} }\n`
    expect(parsePolicy(yaml(''), 'a.yaml').rules[0]?.window?.timezone).toBe('UTC')
    expect(parsePolicy(yaml(', timezone: Europe/London'), 'a.yaml').rules[0]?.window?.timezone).toBe(
      'Europe/London',
    )
    expect(parsePolicy(yaml(', timezone: Asia/Kolkata'), 'a.yaml').rules[0]?.window?.text).toBe(
      '22:00-06:00 Asia/Kolkata',
    )
  })

  it('rate keys are distinct per rule and per agent, and change when the rule changes', () => {
    const a = parsePolicy(VALID, 'x.yaml')
    const b = parsePolicy(VALID.replace('research-bot', 'other-bot'), 'y.yaml')
    const c = parsePolicy(VALID.replace('200/hour', '300/hour'), 'x.yaml')
    const keys = [...a.rules, ...b.rules].map((r) => r.rateKey)
    expect(new Set(keys).size).toBe(4)
    expect(a.rules[0]?.rateKey).toMatch(/^policy:research-bot:0:[0-9a-f]{12}$/)
    expect(c.rules[0]?.rateKey).toBe(a.rules[0]?.rateKey)
    expect(c.rules[1]?.rateKey).not.toBe(a.rules[1]?.rateKey)
  })
})

describe('parsePolicy: errors name file, line and field', () => {
  it('an invalid regular expression', () => {
    const error = errorOf(VALID.replace('/api/users.*', '/api/(users'))
    expect(error.message).toBe(
      'policies/bot.yaml:7: rules[0].paths[1]: invalid regular expression: Unterminated group',
    )
    expect(error).toMatchObject({ file: 'policies/bot.yaml', line: 7, path: 'rules[0].paths[1]' })
  })

  it('a ReDoS-prone pattern', () => {
    expect(errorOf(VALID.replace('/repos/myorg/.*', '/repos/(a+)+')).message).toMatch(
      /^policies\/bot\.yaml:16: rules\[1\]\.paths\[0\]: nested quantifier/,
    )
  })

  it('an unknown key, at its own line', () => {
    expect(errorOf(VALID.replace('    rate_limit: 200/hour', '    rate_limt: 200/hour')).message).toBe(
      'policies/bot.yaml:17: rules[1].rate_limt: unknown key (allowed: service, methods, paths, rate_limit, time_window)',
    )
    expect(errorOf(`${VALID}extra: 1\n`).message).toBe(
      'policies/bot.yaml:18: extra: unknown key (allowed: agent, rules)',
    )
    expect(errorOf(VALID.replace('      timezone: "UTC"', '      tz: "UTC"')).message).toBe(
      'policies/bot.yaml:12: rules[0].time_window.tz: unknown key (allowed: start, end, timezone)',
    )
  })

  it('a lower-case or unknown method', () => {
    expect(errorOf(VALID.replace('[GET, POST]', '[GET, post]')).message).toBe(
      'policies/bot.yaml:14: rules[1].methods[1]: unknown method: use upper case GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE',
    )
    expect(errorOf(VALID.replace('[GET]', '[TRACE]')).message).toMatch(
      /^policies\/bot\.yaml:4: rules\[0\]\.methods\[0\]: unknown method/,
    )
    expect(errorOf(VALID.replace('[GET]', '[]')).message).toMatch(/:4: rules\[0\]\.methods: methods is empty/)
  })

  it('a bad rate', () => {
    expect(errorOf(VALID.replace('100/hour', '100/fortnight')).message).toBe(
      'policies/bot.yaml:8: rules[0].rate_limit: Invalid rate "100/fortnight": expected N/sec, N/min, N/hour or N/day (N from 1 to 1e9)',
    )
  })

  it('an unknown time zone, a bad time, equal start and end', () => {
    expect(errorOf(VALID.replace('"UTC"', '"Mars/Olympus"')).message).toBe(
      'policies/bot.yaml:12: rules[0].time_window.timezone: unknown time zone "Mars/Olympus": use an IANA name such as Europe/London or UTC',
    )
    expect(errorOf(VALID.replace('"18:00"', '"25:00"')).message).toBe(
      'policies/bot.yaml:11: rules[0].time_window.end: invalid time "25:00": use HH:MM, 24-hour, from 00:00 to 24:00 (quoted: "18:00")',
    )
    expect(errorOf(VALID.replace('"09:00"', '"9am"')).message).toBe(
      'policies/bot.yaml:10: rules[0].time_window.start: invalid time "9am": use HH:MM, 24-hour, from 00:00 to 23:59 (quoted: "09:00")',
    )
  })

  it('a bad time is reported once per field, not once by the schema and again by the window check', () => {
    for (const [bad, field] of [
      ['start: "9"', 'start'],
      ['start: "09:00:00"', 'start'],
      ['end: "6pm"', 'end'],
    ] as const) {
      const yaml = VALID.replace(/start: "09:00"|end: "18:00"/g, (m) => (m.startsWith(field) ? bad : m))
      const result = checkPolicy(yaml, 'bot.yaml')
      expect(result.ok, bad).toBe(false)
      if (result.ok) continue
      expect(
        result.errors.map((e) => e.path),
        bad,
      ).toEqual([`rules[0].time_window.${field}`])
    }
    expect(errorOf(VALID.replace('"09:00"', '"24:00"')).message).toMatch(
      /:10: rules\[0\]\.time_window\.start: invalid time "24:00"/,
    )
    expect(errorOf(VALID.replace('"18:00"', '"09:00"')).message).toMatch(
      /:11: rules\[0\]\.time_window\.end: end equals start/,
    )
  })

  it('a bad service, a bad agent name, missing fields', () => {
    expect(errorOf(VALID.replace('service: slack', 'service: Slack')).message).toMatch(
      /^policies\/bot\.yaml:3: rules\[0\]\.service: service must be lower-case/,
    )
    expect(errorOf(VALID.replace('research-bot', 'bad name!')).message).toMatch(
      /^policies\/bot\.yaml:1: agent: invalid agent name/,
    )
    expect(errorOf('agent: a\n').message).toBe('policies/bot.yaml:1: rules: rules is required')
    expect(errorOf('agent: a\nrules:\n  - methods: [GET]\n').message).toBe(
      'policies/bot.yaml:3: rules[0].service: service is required',
    )
    expect(errorOf('agent: a\nrules:\n  - slack\n').message).toMatch(
      /^policies\/bot\.yaml:3: rules\[0\]: each rule must be a mapping/,
    )
  })

  it('YAML syntax errors, empty files, non-mapping documents', () => {
    expect(errorOf('agent: a\nrules:\n  - service: [slack\n').message).toMatch(
      /^policies\/bot\.yaml:\d+: YAML syntax error/,
    )
    expect(errorOf('').message).toBe('policies/bot.yaml:1: empty policy file: expected agent and rules')
    expect(errorOf('- a\n- b\n').message).toMatch(/^policies\/bot\.yaml:1: a policy file must be a mapping/)
  })

  it('a YAML message holding ": " is kept whole', () => {
    expect(errorOf('agent: a\nrules:\n  - service: slack\n    paths: [/a, "/b" "/c"]\n').message).toBe(
      'policies/bot.yaml:4: YAML syntax error: Missing , or : between flow sequence items',
    )
  })

  it('a second document in the file names its line, not the parser API', () => {
    expect(errorOf('agent: a\nrules: []\n---\nagent: b\nrules: []\n').message).toBe(
      'policies/bot.yaml:3: YAML syntax error: a second document starts here (after ---): the file must hold one',
    )
  })

  it('an agent token pasted as the agent name is refused and never repeated', () => {
    const token = `aegis_${'Ab0_-'.repeat(8)}xyz`
    expect(token).toHaveLength(49)
    const result = checkPolicy(`agent: ${token}\nrules:\n  - service: slack\n`, 'bot.yaml')
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.agent).toBeNull()
    expect(result.errors.map((e) => e.message)).toEqual([
      "bot.yaml:1: agent: this is an agent token, not a name: write the agent's name (and regenerate the token: it is in this file)",
    ])
    // Nor is it read back as the agent of a file whose YAML is broken.
    const broken = checkPolicy(`agent: ${token}\nrules: [\n`, 'bot.yaml')
    expect(broken).toMatchObject({ ok: false, agent: null })
    expect(JSON.stringify(broken)).not.toContain(token)
  })

  it('a duplicate key names its field and the line of its first occurrence', () => {
    expect(errorOf('agent: a\nagent: b\nrules: []\n')).toMatchObject({
      message: 'policies/bot.yaml:2: agent: duplicate key (first on line 1): each key may appear once',
      line: 2,
      path: 'agent',
    })
    const rule = 'agent: a\nrules:\n  - service: slack\n    methods: [GET]\n  - service: github\n'
    expect(errorOf(`${rule}    rate_limit: 5/min\n    paths: [/x]\n    rate_limit: 1/day\n`).message).toBe(
      'policies/bot.yaml:8: rules[1].rate_limit: duplicate key (first on line 6): each key may appear once',
    )
    expect(errorOf(`${rule}    time_window: {start: "09:00", end: "18:00", start: "10:00"}\n`).message).toBe(
      'policies/bot.yaml:6: rules[1].time_window.start: duplicate key (first on line 6): each key may appear once',
    )
  })

  it('collects every error of a file and still reads the agent name', () => {
    const result = checkPolicy(VALID.replace('[GET]', '[get]').replace('200/hour', 'lots'), 'bot.yaml')
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.agent).toBe('research-bot')
    expect(result.errors.map((e) => [e.line, e.path])).toEqual([
      [4, 'rules[0].methods[0]'],
      [17, 'rules[1].rate_limit'],
    ])
  })

  it('reads the agent name from a file whose YAML is broken', () => {
    const result = checkPolicy('agent: "research-bot"\nrules:\n  - service: [slack\n', 'bot.yaml')
    expect(result).toMatchObject({ ok: false, agent: 'research-bot' })
    const unreadable = checkPolicy('rules: {{{\n', 'bot.yaml')
    expect(unreadable).toMatchObject({ ok: false, agent: null })
  })

  it('messages are single lines', () => {
    for (const m of messages('agent: a\nrules:\n  - service: "x\n    y"\n  - {\n'))
      expect(m).not.toMatch(/\n/)
  })

  it('refuses alias bombs without expanding them', () => {
    const bomb = ['agent: a', 'x0: &a0 [1, 1]']
    for (let i = 1; i < 30; i++) bomb.push(`x${i}: &a${i} [*a${i - 1}, *a${i - 1}]`)
    bomb.push('rules: []')
    expect(errorOf(bomb.join('\n')).message).toBe(
      'policies/bot.yaml:3: YAML error: aliases expand into too many nodes: an alias bomb is refused',
    )
    // An alias with no anchor: its own line (the error said line 1 for both).
    expect(errorOf('agent: a\nrules:\n  - service: slack\n    paths: *paths\n').message).toBe(
      'policies/bot.yaml:4: YAML error: an alias (*name) refers to no anchor (&name) defined before it',
    )
  })
})
