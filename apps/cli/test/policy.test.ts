import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, parseJson, removeDir, runCli, tempDir } from './helpers/run-cli.js'

const RESEARCH = `agent: research-bot
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
const BROKEN = 'agent: broken-bot\nrules:\n  - service: slack\n    paths: ["/api/(x"]\n'

describe('aegis policy validate | list | test', () => {
  let dir: string
  let good: string
  let bad: string
  const run = (args: string[], env?: Record<string, string>): Promise<CliResult> =>
    runCli(args, { cwd: dir, env })

  beforeAll(() => {
    dir = tempDir()
    good = join(dir, 'good')
    bad = join(dir, 'bad')
    mkdirSync(good)
    mkdirSync(bad)
    writeFileSync(join(good, 'research-bot.yaml'), RESEARCH)
    writeFileSync(join(good, 'notes.md'), 'not a policy')
    writeFileSync(join(bad, 'research-bot.yaml'), RESEARCH)
    writeFileSync(join(bad, 'broken.yml'), BROKEN)
  })
  afterAll(() => {
    if (dir) removeDir(dir)
  })

  describe('validate', () => {
    it('prints OK per file and exits 0 when every file is valid', async () => {
      const r = await run(['policy', 'validate', '--policies-dir', 'good'])
      expect(r.code).toBe(0)
      expect(r.stdout).toBe('OK     good/research-bot.yaml (agent research-bot, 2 rules)\n')
    })

    it('prints file:line: field: message for each error and exits 1', async () => {
      const r = await run(['policy', 'validate', '--policies-dir', 'bad'])
      expect(r.code).toBe(1)
      expect(r.stdout).toContain('ERROR  bad/broken.yml (agent broken-bot is denied everything)\n')
      expect(r.stdout).toContain(
        '  bad/broken.yml:4: rules[0].paths[0]: invalid regular expression: Unterminated group\n',
      )
      expect(r.stdout).toContain('OK     bad/research-bot.yaml (agent research-bot, 2 rules)\n')
      expect(r.stderr).toBe('1 of 2 policy files are invalid\n')
    })

    it('says that a broken file with no readable agent denies every agent without a policy', async () => {
      mkdirSync(join(dir, 'anonymous'))
      writeFileSync(join(dir, 'anonymous', 'mystery.yaml'), 'rules:\n  - service: [slack\n')
      const r = await run(['policy', 'validate', '--policies-dir', 'anonymous'])
      expect(r.code).toBe(1)
      expect(r.stdout).toContain(
        'ERROR  anonymous/mystery.yaml (no agent can be read from it: every agent without a valid policy is denied)\n',
      )
    })

    it('--json gives {valid, files} and still exits 1 when invalid', async () => {
      const r = await run(['policy', 'validate', '--policies-dir', 'bad', '--json'])
      expect(r.code).toBe(1)
      expect(parseJson(r)).toEqual({
        valid: false,
        dir: 'bad',
        files: [
          {
            file: 'bad/broken.yml',
            agent: 'broken-bot',
            rules: null,
            errors: [
              {
                line: 4,
                field: 'rules[0].paths[0]',
                message: 'invalid regular expression: Unterminated group',
              },
            ],
          },
          { file: 'bad/research-bot.yaml', agent: 'research-bot', rules: 2, errors: [] },
        ],
      })
      const ok = await run(['policy', 'validate', '--policies-dir', 'good', '--json'])
      expect(ok.code).toBe(0)
      expect(parseJson(ok)).toMatchObject({ valid: true })
    })

    it('a missing directory, or none configured, is a one-line error', async () => {
      const missing = await run(['policy', 'validate', '--policies-dir', 'nope'])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toBe('Error: nope: policies directory not found\n')
      const none = await run(['policy', 'validate'])
      expect(none.code).toBe(1)
      expect(none.stderr).toBe(
        'Error: No policies directory: pass --policies-dir (there is no aegis.config.yaml here to set gate.policies_dir; aegis init makes one)\n',
      )
    })

    it('defaults to gate.policies_dir from the config file (relative to the file)', async () => {
      const project = join(dir, 'project')
      mkdirSync(join(project, 'conf', 'policies'), { recursive: true })
      writeFileSync(join(project, 'conf', 'policies', 'r.yaml'), RESEARCH)
      writeFileSync(join(project, 'conf', 'aegis.config.yaml'), 'gate:\n  policies_dir: ./policies\n')
      const r = await runCli(['policy', 'validate', '--config', 'conf/aegis.config.yaml', '--json'], {
        cwd: project,
      })
      expect(r.code).toBe(0)
      expect(parseJson<{ files: { file: string }[] }>(r).files.map((f) => f.file)).toEqual([
        join(project, 'conf', 'policies', 'r.yaml'),
      ])
      const env = await runCli(['policy', 'list', '--json'], {
        cwd: project,
        env: { AEGIS_POLICIES_DIR: join(project, 'conf', 'policies') },
      })
      expect(env.code).toBe(0)
      expect(parseJson<{ agent: string }[]>(env).map((row) => row.agent)).toEqual(['research-bot'])
    })
  })

  describe('list', () => {
    it('shows agents, rule counts and services, then broken files', async () => {
      const r = await run(['policy', 'list', '--policies-dir', 'bad'])
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(
        [
          'AGENT         RULES  SERVICES      FILE',
          'research-bot  2      slack,github  bad/research-bot.yaml',
          '',
          'Broken (these agents are denied everything until fixed):',
          '  bad/broken.yml (agent broken-bot)',
          '    bad/broken.yml:4: rules[0].paths[0]: invalid regular expression: Unterminated group',
          '',
        ].join('\n'),
      )
    })

    it('--json is an array of files', async () => {
      const r = await run(['policy', 'list', '--policies-dir', 'bad', '--json'])
      expect(parseJson(r)).toEqual([
        {
          agent: 'broken-bot',
          file: 'bad/broken.yml',
          status: 'broken',
          rules: null,
          services: [],
          errors: ['bad/broken.yml:4: rules[0].paths[0]: invalid regular expression: Unterminated group'],
        },
        {
          agent: 'research-bot',
          file: 'bad/research-bot.yaml',
          status: 'ok',
          rules: 2,
          services: ['slack', 'github'],
          errors: [],
        },
      ])
    })
  })

  describe('test', () => {
    const ask = (agent: string, service: string, method: string, path: string, extra: string[] = []) => [
      'policy',
      'test',
      '--policies-dir',
      'bad',
      '--agent',
      agent,
      '--service',
      service,
      '--method',
      method,
      '--path',
      path,
      ...extra,
    ]

    it('refuses an agent token given as --agent, without repeating it', async () => {
      const token = `aegis_${'Zz9_-'.repeat(8)}abc`
      const r = await run(ask(token, 'slack', 'GET', '/api/x'))
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('--agent takes the agent name, and this is an agent token')
      expect(r.stdout + r.stderr).not.toContain(token)
    })

    it('allowed: exit 0, names the rule and its rate limit', async () => {
      const r = await run(
        ask('research-bot', 'slack', 'GET', '/api/conversations.list', ['--at', '2026-03-02T10:00:00Z']),
      )
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(
        'ALLOWED: GET slack /api/conversations.list for agent research-bot at 2026-03-02T10:00:00.000Z\n' +
          '  rule: bad/research-bot.yaml:3 (rules[0], service slack), rate limit 100/hour\n',
      )
      const json = await run(ask('research-bot', 'github', 'post', '/repos/myorg/app/issues', ['--json']))
      expect(json.code).toBe(0)
      expect(parseJson(json)).toMatchObject({
        allowed: true,
        rule: { file: 'bad/research-bot.yaml', line: 13, index: 1, service: 'github' },
        rateLimit: '200/hour',
        method: 'POST',
      })
    })

    it('refused outside the time window: exit 1, JSON {allowed, code, rule, reason}', async () => {
      const r = await run(
        ask('research-bot', 'slack', 'GET', '/api/users.list', ['--at', '2026-03-02T20:00:00Z', '--json']),
      )
      expect(r.code).toBe(1)
      const json = parseJson<Record<string, unknown>>(r)
      expect(json).toMatchObject({
        allowed: false,
        code: 'policy_denied',
        rule: { file: 'bad/research-bot.yaml', line: 3, index: 0, service: 'slack' },
      })
      expect(json.reason).toMatch(/only between 09:00-18:00 UTC/)
    })

    it('refused when no rule matches, including substring tricks', async () => {
      for (const [method, path] of [
        ['DELETE', '/api/conversations.list'],
        ['GET', '/admin/api/conversations.list'],
        ['POST', '/repos/otherorg/app'],
      ]) {
        const r = await run(
          ask('research-bot', method === 'POST' ? 'github' : 'slack', method as string, path as string, [
            '--at',
            '2026-03-02T10:00:00Z',
            '--json',
          ]),
        )
        expect(r.code, `${method} ${path}`).toBe(1)
        expect(parseJson(r)).toMatchObject({ allowed: false, code: 'policy_denied' })
      }
    })

    it('a broken policy file denies its agent everything', async () => {
      const r = await run(ask('broken-bot', 'slack', 'GET', '/api/x'))
      expect(r.code).toBe(1)
      expect(r.stdout).toContain('policy file bad/broken.yml failed to load: line 4: rules[0].paths[0]')
    })

    it('agents without a policy follow gate.policy_default', async () => {
      const allowed = await run(ask('stranger', 'slack', 'GET', '/x', ['--json']))
      expect(allowed.code).toBe(0)
      expect(parseJson(allowed)).toMatchObject({
        allowed: true,
        reason: 'agent stranger has no policy file; the default policy allows',
      })
      writeFileSync(join(dir, 'deny.yaml'), 'gate:\n  policy_default: deny\n')
      const denied = await run([
        ...ask('stranger', 'slack', 'GET', '/x', ['--json']),
        '--config',
        'deny.yaml',
      ])
      expect(denied.code).toBe(1)
      expect(parseJson(denied)).toMatchObject({ allowed: false, code: 'policy_denied' })
    })

    it('the query is not part of the path; paths the gate refuses are errors', async () => {
      const q = await run(
        ask('research-bot', 'slack', 'GET', '/api/users.list?token=abc', [
          '--at',
          '2026-03-02T10:00:00Z',
          '--json',
        ]),
      )
      expect(q.code).toBe(0)
      expect(parseJson(q)).toMatchObject({ allowed: true, path: '/api/users.list' })
      expect(q.stdout).not.toContain('token=abc')
      const traversal = await run(ask('research-bot', 'slack', 'GET', '/api/conversations.list/../../admin'))
      expect(traversal.code).toBe(1)
      expect(traversal.stderr).toMatch(/^Error: The gate refuses this request before any policy: /)
      const relative = await run(ask('research-bot', 'slack', 'GET', 'api/x'))
      expect(relative.stderr).toBe('Error: Invalid --path "api/x": it must start with /\n')
      const at = await run(ask('research-bot', 'slack', 'GET', '/x', ['--at', 'yesterday']))
      expect(at.code).toBe(1)
      expect(at.stderr).toMatch(/^Error: Invalid --at "yesterday"/)
    })

    it("dry-run (gate.policy_mode or --policy-mode): the verdict and exit code stay the policy's; a line says the gate forwards it", async () => {
      const late = ['--at', '2026-03-02T20:00:00Z']
      writeFileSync(join(dir, 'dry.yaml'), 'gate:\n  policy_mode: dry-run\n')
      const r = await run([
        ...ask('research-bot', 'slack', 'GET', '/api/users.list', late),
        '--config',
        'dry.yaml',
      ])
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(
        /^REFUSED \(policy_denied\): GET slack \/api\/users.list for agent research-bot at 2026-03-02T20:00:00.000Z\n {2}rule: bad\/research-bot.yaml:3 \(rules\[0\], service slack\)\n {2}.*only between 09:00-18:00 UTC.*\n {2}policy_mode dry-run: the gate forwards it and records dryRun: policy_denied\n$/,
      )
      const json = await run([
        ...ask('research-bot', 'slack', 'GET', '/api/users.list', [...late, '--json']),
        '--config',
        'dry.yaml',
      ])
      expect(json.code).toBe(1)
      expect(parseJson<Record<string, unknown>>(json)).toMatchObject({
        allowed: false,
        code: 'policy_denied',
        policyMode: 'dry-run',
        forwarded: true,
        dryRun: 'policy_denied',
        rule: { file: 'bad/research-bot.yaml', line: 3, index: 0, service: 'slack' },
      })
      // The environment and the flag choose the mode as they do for the gate; the flag wins.
      const byEnv = await run(ask('research-bot', 'slack', 'GET', '/api/users.list', [...late, '--json']), {
        AEGIS_POLICY_MODE: 'dry-run',
      })
      expect(parseJson(byEnv)).toMatchObject({ allowed: false, forwarded: true, dryRun: 'policy_denied' })
      const enforced = await run([
        ...ask('research-bot', 'slack', 'GET', '/api/users.list', [
          ...late,
          '--json',
          '--policy-mode',
          'enforce',
        ]),
        '--config',
        'dry.yaml',
      ])
      expect(enforced.code).toBe(1)
      const body = parseJson<Record<string, unknown>>(enforced)
      expect(body).toMatchObject({
        allowed: false,
        code: 'policy_denied',
        policyMode: 'enforce',
        forwarded: false,
      })
      expect(body).not.toHaveProperty('dryRun')
    })

    it('dry-run with a rule that allows: allowed as in enforce, its rate limit still applies', async () => {
      const r = await run(
        ask('research-bot', 'slack', 'GET', '/api/users.list', [
          '--at',
          '2026-03-02T10:00:00Z',
          '--json',
          '--policy-mode',
          'dry-run',
        ]),
      )
      expect(r.code).toBe(0)
      const body = parseJson<Record<string, unknown>>(r)
      expect(body).toMatchObject({
        allowed: true,
        policyMode: 'dry-run',
        forwarded: true,
        rateLimit: '100/hour',
      })
      expect(body).not.toHaveProperty('dryRun')
    })

    it('off: the policy verdict is still given; a line says the gate applies no policy', async () => {
      const r = await run(ask('broken-bot', 'slack', 'GET', '/api/x', ['--policy-mode', 'off']))
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(/^REFUSED \(policy_denied\): GET slack \/api\/x/)
      expect(r.stdout).toContain('  policy_mode off: the gate applies no policy and forwards it\n')
      const allowedRule = await run(
        ask('research-bot', 'github', 'GET', '/repos/myorg/app', ['--policy-mode', 'off', '--json']),
      )
      const body = parseJson<Record<string, unknown>>(allowedRule)
      expect(body).toMatchObject({ allowed: true, policyMode: 'off', forwarded: true })
      // The gate spends no policy budget when policies are off.
      expect(body).not.toHaveProperty('rateLimit')
    })

    it('enforce is the default and is said in --json', async () => {
      const r = await run(
        ask('research-bot', 'slack', 'GET', '/api/users.list', ['--at', '2026-03-02T20:00:00Z', '--json']),
      )
      expect(r.code).toBe(1)
      expect(parseJson(r)).toMatchObject({ allowed: false, policyMode: 'enforce', forwarded: false })
    })

    it('missing required flags are usage errors (exit 2)', async () => {
      const r = await run(['policy', 'test', '--policies-dir', 'bad', '--agent', 'x'])
      expect(r.code).toBe(2)
    })
  })
})
