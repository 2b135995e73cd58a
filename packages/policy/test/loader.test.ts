import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { decideForAgent, EMPTY_POLICY_SET, loadPolicyDir, PolicyError } from '../src/index.js'
import { req } from './helpers.js'

const RESEARCH = 'agent: research-bot\nrules:\n  - service: slack\n    methods: [GET]\n'
const DEPLOY = 'agent: deploy-bot\nrules:\n  - service: github\n'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-policy-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const write = (name: string, text: string) => writeFileSync(join(dir, name), text)
const get = req('GET', 'slack', '/api/x')
const allow = { defaultPolicy: 'allow' as const }
const deny = { defaultPolicy: 'deny' as const }

describe('loadPolicyDir', () => {
  it('reads *.yaml and *.yml files in name order and ignores everything else', () => {
    write('research.yaml', RESEARCH)
    write('deploy.yml', DEPLOY)
    write('notes.txt', 'agent: x\nrules: [')
    write('README.md', '# hi')
    write('.research.yaml.swp', 'garbage')
    write('.#lock.yaml', 'garbage')
    mkdirSync(join(dir, 'sub.yaml'))
    const set = loadPolicyDir(dir)
    expect(set.files).toEqual([join(dir, 'deploy.yml'), join(dir, 'research.yaml')])
    expect([...set.policies.keys()].sort()).toEqual(['deploy-bot', 'research-bot'])
    expect(set.errors).toEqual([])
    expect(set.broken.size).toBe(0)
    expect(set.unattributed).toEqual([])
    expect(set.entries.map((e) => [e.agent, e.policy?.rules.length])).toEqual([
      ['deploy-bot', 1],
      ['research-bot', 1],
    ])
  })

  it('an empty directory is an empty set; a missing one is a clear error', () => {
    expect(loadPolicyDir(dir)).toMatchObject({ files: [], errors: [], unattributed: [] })
    const missing = join(dir, 'nope')
    expect(() => loadPolicyDir(missing)).toThrow(PolicyError)
    expect(() => loadPolicyDir(missing)).toThrow(`${missing}: policies directory not found`)
    write('file.yaml', RESEARCH)
    expect(() => loadPolicyDir(join(dir, 'file.yaml'))).toThrow(/is not a directory/)
  })

  it('a file that is not UTF-8 denies its agent, naming the line (never a pattern with U+FFFD in it)', () => {
    // An editor saving in Latin-1: "/café" must not become "/caf\ufffd" and load as valid.
    writeFileSync(join(dir, 'research.yaml'), Buffer.from(`${RESEARCH}    paths: ["/caf\xe9"]\n`, 'latin1'))
    write('deploy.yaml', DEPLOY)
    const set = loadPolicyDir(dir)
    expect(set.policies.has('research-bot')).toBe(false)
    expect(set.broken.get('research-bot')?.[0]?.message).toBe(
      `${join(dir, 'research.yaml')}:5: the file is not valid UTF-8 (saved as Latin-1 or Windows-1252?): save it as UTF-8`,
    )
    expect(decideForAgent(set, 'research-bot', get, allow).allowed).toBe(false)
    expect(decideForAgent(set, 'deploy-bot', req('GET', 'github', '/x'), allow).allowed).toBe(true)
    // UTF-16 ("Unicode" in Windows editors): no agent can be read, so it fails closed for all without one.
    write('research.yaml', RESEARCH)
    writeFileSync(
      join(dir, 'other.yaml'),
      Buffer.from(`\ufeff${DEPLOY.replace('deploy-bot', 'other-bot')}`, 'utf16le'),
    )
    const utf16 = loadPolicyDir(dir)
    expect(utf16.errors.map((e) => e.message)).toEqual([
      `${join(dir, 'other.yaml')}:1: the file is UTF-16 text, not UTF-8: save it as UTF-8`,
    ])
    expect(utf16.unattributed).toEqual([join(dir, 'other.yaml')])
    expect(decideForAgent(utf16, 'nobody', get, allow).allowed).toBe(false)
    expect(decideForAgent(utf16, 'research-bot', get, allow).allowed).toBe(true)
  })

  it('a broken file makes its agent deny-all, even with default allow; other agents are unaffected', () => {
    write('research.yaml', `${RESEARCH}    paths: ["/api/(x"]\n`)
    write('deploy.yaml', DEPLOY)
    const set = loadPolicyDir(dir)
    expect(set.policies.has('research-bot')).toBe(false)
    expect(set.broken.get('research-bot')?.[0]?.message).toBe(
      `${join(dir, 'research.yaml')}:5: rules[0].paths[0]: invalid regular expression: Unterminated group`,
    )
    const d = decideForAgent(set, 'research-bot', get, allow)
    expect(d).toMatchObject({ allowed: false, code: 'policy_denied', rule: null })
    expect(d.reason).toBe(
      `policy file ${join(dir, 'research.yaml')} failed to load: line 5: rules[0].paths[0]: invalid regular expression: Unterminated group; agent research-bot is denied everything until it is fixed`,
    )
    expect(decideForAgent(set, 'deploy-bot', req('GET', 'github', '/x'), allow).allowed).toBe(true)
    expect(decideForAgent(set, 'other-bot', get, allow).allowed).toBe(true)
  })

  it('a file whose agent cannot be read denies every agent without a valid policy', () => {
    write('mystery.yaml', 'agent: [oops\n')
    write('deploy.yaml', DEPLOY)
    const set = loadPolicyDir(dir)
    const file = join(dir, 'mystery.yaml')
    expect(set.unattributed).toEqual([file])
    expect(set.broken.has(file)).toBe(true)
    const d = decideForAgent(set, 'anyone', get, allow)
    expect(d.allowed).toBe(false)
    expect(d.reason).toMatch(
      new RegExp(`^policy file ${file} failed to load: .* and names no readable agent`),
    )
    expect(decideForAgent(set, 'deploy-bot', req('GET', 'github', '/x'), allow).allowed).toBe(true)
  })

  it('two files for the same agent: both are broken and the agent is denied', () => {
    write('a.yaml', RESEARCH)
    write('b.yaml', RESEARCH.replace('[GET]', '[GET, POST]'))
    const set = loadPolicyDir(dir)
    expect(set.policies.has('research-bot')).toBe(false)
    const errors = set.broken.get('research-bot') ?? []
    expect(errors.map((e) => e.message)).toEqual([
      `${join(dir, 'a.yaml')}: agent: agent research-bot also has a policy in ${join(dir, 'b.yaml')}: one file per agent (the agent is denied everything until only one remains)`,
      `${join(dir, 'b.yaml')}: agent: agent research-bot also has a policy in ${join(dir, 'a.yaml')}: one file per agent (the agent is denied everything until only one remains)`,
    ])
    expect(decideForAgent(set, 'research-bot', get, allow).allowed).toBe(false)
  })

  it('a duplicate where one copy is also broken still denies the agent', () => {
    write('a.yaml', RESEARCH)
    write('b.yaml', 'agent: research-bot\nrules: nope\n')
    const set = loadPolicyDir(dir)
    expect(set.policies.has('research-bot')).toBe(false)
    expect(set.broken.get('research-bot')).toHaveLength(3)
  })

  it('an unreadable or dangling file is broken, not skipped', () => {
    symlinkSync(join(dir, 'gone.txt'), join(dir, 'dangling.yaml'))
    const set = loadPolicyDir(dir)
    expect(set.files).toEqual([join(dir, 'dangling.yaml')])
    expect(set.errors[0]?.message).toBe(`${join(dir, 'dangling.yaml')}: cannot read policy file (ENOENT)`)
    expect(decideForAgent(set, 'anyone', get, allow).allowed).toBe(false)
  })

  it.skipIf(process.getuid?.() === 0)('a file without read permission is broken', () => {
    write('research.yaml', RESEARCH)
    chmodSync(join(dir, 'research.yaml'), 0o000)
    expect(loadPolicyDir(dir).errors[0]?.reason).toBe('cannot read policy file (EACCES)')
  })
})

describe('decideForAgent', () => {
  it('agents without a policy file: default allow passes, default deny refuses', () => {
    write('research.yaml', RESEARCH)
    const set = loadPolicyDir(dir)
    expect(decideForAgent(set, 'stranger', get, allow)).toEqual({
      allowed: true,
      rule: null,
      rate: null,
      reason: 'agent stranger has no policy file; the default policy allows',
    })
    expect(decideForAgent(set, 'stranger', get, deny)).toEqual({
      allowed: false,
      code: 'policy_denied',
      rule: null,
      reason: 'agent stranger has no policy file and the default policy is deny',
    })
    expect(decideForAgent(EMPTY_POLICY_SET, 'x', get, allow).allowed).toBe(true)
  })

  it('agents with a policy are judged by it, whatever the default', () => {
    write('research.yaml', RESEARCH)
    const set = loadPolicyDir(dir)
    expect(decideForAgent(set, 'research-bot', get, deny).allowed).toBe(true)
    expect(decideForAgent(set, 'research-bot', req('POST', 'slack', '/api/x'), allow).allowed).toBe(false)
  })

  it('agent names are matched exactly', () => {
    write('research.yaml', RESEARCH)
    const set = loadPolicyDir(dir)
    expect(decideForAgent(set, 'Research-Bot', req('POST', 'slack', '/x'), allow).allowed).toBe(true)
    expect(decideForAgent(set, 'research-bot', req('POST', 'slack', '/x'), allow).allowed).toBe(false)
  })
})
