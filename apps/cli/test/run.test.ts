import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentEnv } from '../src/lib/agent-env.js'
import { addCredential, BIN, initProject, type Project, parseJson, removeDir } from './helpers/run-cli.js'

const OPENAI_SECRET = 'sk-run-openai-secret-4b7d2e9f1a'
const ANTHROPIC_SECRET = 'sk-ant-run-secret-8c3e5a1f9d'

/** A child that prints its whole environment as JSON. */
const PRINT_ENV = ['node', '-e', 'process.stdout.write(JSON.stringify(process.env))']

let p: Project
let token: string
beforeAll(async () => {
  p = await initProject()
  await addCredential(
    p,
    ['--name', 'oa', '--service', 'openai', '--domains', 'api.openai.com'],
    OPENAI_SECRET,
  )
  await addCredential(
    p,
    [
      '--name',
      'an',
      '--service',
      'anthropic',
      '--domains',
      'api.anthropic.com',
      '--auth-type',
      'header',
      '--header-name',
      'x-api-key',
    ],
    ANTHROPIC_SECRET,
  )
  const added = await p.run(['agent', 'add', '--name', 'coder', '--json'])
  token = parseJson<{ token: string }>(added).token
})
afterAll(() => removeDir(p.dir))

describe('aegis run: the environment the command gets', () => {
  it('points the SDKs of configured providers at the gate with the agent token as their key', async () => {
    const result = await p.run(['run', '--agent-token', '-', '--', ...PRINT_ENV], { input: `${token}\n` })
    expect(result.code, result.stderr).toBe(0)
    const env = JSON.parse(result.stdout) as Record<string, string>
    expect(env).toMatchObject({
      OPENAI_BASE_URL: 'http://127.0.0.1:3100/openai/v1',
      OPENAI_API_KEY: token,
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:3100/anthropic',
      ANTHROPIC_API_KEY: token,
      AEGIS_GATE_URL: 'http://127.0.0.1:3100',
      AEGIS_AGENT_TOKEN: token,
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
    })
    // No credential serves gemini: its variables are not set.
    expect(env.GOOGLE_GEMINI_BASE_URL).toBeUndefined()
    expect(env.GEMINI_API_KEY).toBeUndefined()
  })

  it('says which variables it set on stderr, by name, never the token or a secret', async () => {
    const result = await p.run(['run', '--', ...PRINT_ENV], { env: { AEGIS_AGENT_TOKEN: token } })
    expect(result.code).toBe(0)
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY']) {
      expect(result.stderr).toContain(`set ${name}=`)
    }
    expect(result.stderr).not.toContain(token)
    expect(result.stderr).not.toContain(OPENAI_SECRET)
    expect(result.stderr).not.toContain(p.key)
  })

  it('never passes the master key, a user token or any variable holding a vault secret', async () => {
    const result = await p.run(['run', '--', ...PRINT_ENV], {
      env: {
        AEGIS_AGENT_TOKEN: token,
        AEGIS_USER_TOKEN: 'aegis_user_admin-token',
        OPENAI_API_KEY: OPENAI_SECRET,
        MY_ANTHROPIC: `Bearer ${ANTHROPIC_SECRET}`,
        HARMLESS: 'kept',
      },
    })
    expect(result.code, result.stderr).toBe(0)
    const env = JSON.parse(result.stdout) as Record<string, string>
    const all = JSON.stringify(env)
    for (const secret of [OPENAI_SECRET, ANTHROPIC_SECRET, p.key, 'aegis_user_admin-token']) {
      expect(all).not.toContain(secret)
    }
    expect(env.OPENAI_API_KEY).toBe(token)
    expect(env.HARMLESS).toBe('kept')
    expect(result.stderr).toContain('removed AEGIS_MASTER_KEY, AEGIS_USER_TOKEN, MY_ANTHROPIC')
  })

  it("never passes the shared stores' URLs (their passwords open the database and the budgets) or the metrics token", async () => {
    // With AEGIS_REDIS_URL the agent could delete its own budgets; with AEGIS_PG_URL grant itself
    // every credential and erase its ledger rows, past the gate.
    const result = await p.run(['run', '--', ...PRINT_ENV], {
      env: {
        AEGIS_AGENT_TOKEN: token,
        AEGIS_REDIS_URL: 'redis://:redis-pw-4e1a@127.0.0.1:1',
        AEGIS_METRICS_TOKEN: 'metrics-token-9f2c',
      },
    })
    expect(result.code, result.stderr).toBe(0)
    const all = result.stdout
    expect(all).not.toContain('redis-pw-4e1a')
    expect(all).not.toContain('metrics-token-9f2c')
    expect(result.stderr).toContain('removed AEGIS_MASTER_KEY, AEGIS_METRICS_TOKEN, AEGIS_REDIS_URL')
    const withPg = agentEnv({
      parent: { AEGIS_PG_URL: 'postgres://aegis:pg-pw-77@db/aegis', PATH: '/usr/bin' },
      gateUrl: 'http://127.0.0.1:3100',
      token,
      services: new Set(),
      secrets: [],
    })
    expect(withPg.env.AEGIS_PG_URL).toBeUndefined()
    expect(withPg.env.PATH).toBe('/usr/bin')
    expect(withPg.removed).toEqual(['AEGIS_PG_URL'])
  })

  it.each([
    [
      'no_proxy only',
      { no_proxy: 'corp.example,.internal' },
      [],
      'corp.example,.internal,127.0.0.1,localhost',
    ],
    [
      'both, different',
      { no_proxy: 'a.example', NO_PROXY: 'b.example' },
      [],
      'a.example,b.example,127.0.0.1,localhost',
    ],
    [
      'a gate on another host (--gate-url)',
      { NO_PROXY: 'a.example' },
      ['--gate-url', 'http://aegis.internal:3100'],
      'a.example,127.0.0.1,localhost,aegis.internal',
    ],
    ['a gate on IPv6 loopback', {}, ['--gate-url', 'http://[::1]:3100'], '127.0.0.1,localhost,::1'],
  ] as const)(
    'keeps the gate off any proxy, for tools that read no_proxy first too (%s)',
    async (_, proxyEnv, flags, expected) => {
      // curl, Python (urllib, requests, httpx) and undici read the lower-case no_proxy first: with only
      // NO_PROXY set, an agent's requests to the gate, its token with them, went to the proxy.
      const result = await p.run(['run', ...flags, '--', ...PRINT_ENV], {
        env: { AEGIS_AGENT_TOKEN: token, http_proxy: 'http://proxy.corp:3128', ...proxyEnv },
      })
      expect(result.code, result.stderr).toBe(0)
      const env = JSON.parse(result.stdout) as Record<string, string>
      expect(env.no_proxy).toBe(expected)
      expect(env.NO_PROXY).toBe(expected)
    },
  )

  it.each([
    ['no token at all', [], {}, 'No agent token'],
    ['a token in argv', ['--agent-token', 'aegis_x'], {}, 'takes only "-"'],
    ['a value that is not an agent token', [], { AEGIS_AGENT_TOKEN: 'sk-not-a-token' }, 'not an agent token'],
    [
      'an agent-shaped token of no agent',
      [],
      { AEGIS_AGENT_TOKEN: `aegis_${'A'.repeat(43)}` },
      'not an agent of vault',
    ],
  ])('refuses %s (exit 1) and runs nothing', async (_, flags, env, message) => {
    const result = await p.run(['run', ...flags, '--', 'node', '-e', 'console.log("ran")'], { env })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(message)
    expect(result.stdout).not.toContain('ran')
  })

  it('without a command after "--" is a usage error (exit 2)', async () => {
    const result = await p.run(['run'], { env: { AEGIS_AGENT_TOKEN: token } })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('aegis run [--agent-token -] -- <command')
  })
})

describe('aegis run: exit status and signals', () => {
  it.each([0, 1, 7, 255])("exits with the command's status %i", async (status) => {
    const result = await p.run(['run', '--', 'node', '-e', `process.exit(${status})`], {
      env: { AEGIS_AGENT_TOKEN: token },
    })
    expect(result.code).toBe(status)
  })

  it('exits 127 when the command does not exist', async () => {
    const result = await p.run(['run', '--', 'no-such-command-aegis'], { env: { AEGIS_AGENT_TOKEN: token } })
    expect(result.code).toBe(127)
    expect(result.stderr).toContain('Command not found: no-such-command-aegis')
  })

  /**
   * Starts `aegis run -- node -e <script>` and resolves once the script printed "ready". The CLI's
   * Node runs with `--inspect-port=0`: should a signal open its inspector, it says so on stderr
   * (on a free port, never clashing with another process's 9229). A script that no signal reaches
   * ends itself after 8 s (status 9), so a signal that went astray fails the test, never hangs it.
   */
  function start(script: string) {
    const child = spawn(process.execPath, ['--inspect-port=0', BIN, 'run', '--', 'node', '-e', script], {
      cwd: p.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: p.dir, ...p.env, AEGIS_AGENT_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A session of its own, without a terminal: run from one, the test's signals would otherwise
      // look to `aegis run` like keys of that terminal, which it does not forward.
      detached: true,
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    const ready = new Promise<void>((resolve) => {
      child.stdout.on('data', () => out.includes('ready') && resolve())
    })
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    return { child, ready, exited, output: () => out, errors: () => err }
  }

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    // Not forwarded, these ended `aegis run` itself and left the command running, orphaned. (SIGUSR1
    // opens the inspector of a Node command rather than ending it: it is in the tests below.)
    ['SIGQUIT', 131],
    ['SIGUSR2', 140],
    ['SIGALRM', 142],
  ] as const)(
    'forwards %s to the command; a command it kills makes the exit status %i',
    async (signal, status) => {
      const run = start('setTimeout(() => process.exit(9), 8000); console.log("ready")')
      await run.ready
      run.child.kill(signal)
      expect(await run.exited).toBe(status)
    },
  )

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM'] as const)(
    'the command itself receives %s (and decides how to end)',
    async (signal) => {
      const run = start(
        `process.on('${signal}', () => { console.log('got ${signal}'); process.exit(3) }); setTimeout(() => process.exit(9), 8000); console.log('ready')`,
      )
      await run.ready
      run.child.kill(signal)
      expect(await run.exited).toBe(3)
      expect(run.output()).toContain(`got ${signal}`)
    },
  )

  it("the command cannot open Node's inspector in aegis run (which holds the master key) with SIGUSR1", async () => {
    // The agent signals its parent, as an injected prompt could make it do, then would connect to the
    // inspector and read process.env.AEGIS_MASTER_KEY and the decrypted secrets there.
    const run = start(
      `process.on('SIGUSR1', () => { console.log('got SIGUSR1'); process.exit(4) }); setTimeout(() => process.exit(9), 8000); console.log('ready'); process.kill(process.ppid, 'SIGUSR1')`,
    )
    await run.ready
    expect(await run.exited).toBe(4)
    expect(run.output()).toContain('got SIGUSR1')
    expect(run.errors()).not.toMatch(/Debugger listening|inspector/i)
  })

  it.each([
    ['^C', 'in its group', '\x03', 'SIGINT', []],
    ['^\\', 'in its group', '\x1c', 'SIGQUIT', []],
    // A command in a session of its own gets nothing from the terminal: aegis run passes it on.
    ['^C', 'in a session of its own', '\x03', 'SIGINT', ['setsid']],
  ] as const)(
    'one %s typed in its terminal reaches the command %s once, not twice',
    async (_, _where, key, signal, prefix) => {
      // In a terminal (script(1) gives it one), the key's signal goes to the whole foreground process
      // group: the command has it from the terminal; forwarded as well, it arrived twice, and to many
      // agents a second ^C means "quit now, skip the cleanup".
      const script = `let n = 0; process.on('${signal}', () => { n++; setTimeout(() => { console.log('got ' + n); process.exit(0) }, 500) }); setTimeout(() => process.exit(9), 8000); console.log('ready')`
      // `exec`: the shell script(1) starts would otherwise sit in the same group and have its own say.
      const inner = ['exec', process.execPath, BIN, 'run', '--', ...prefix, process.execPath, '-e', script]
        .map((arg, i) => (i === 0 ? arg : `'${arg.replaceAll("'", `'\\''`)}'`))
        .join(' ')
      const term = spawn('script', ['-qec', inner, '/dev/null'], {
        cwd: p.dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: p.dir, ...p.env, AEGIS_AGENT_TOKEN: token },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      })
      let out = ''
      let typed = false
      term.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (typed || !out.includes('ready')) return
        typed = true
        setTimeout(() => term.stdin.write(key), 200)
      })
      const code = await new Promise<number | null>((resolve) => term.on('close', resolve))
      expect(out).toContain('got 1')
      expect(out).not.toContain('got 2')
      expect(code).toBe(0)
    },
  )
})
