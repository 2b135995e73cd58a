/**
 * The scripted run the dashboard e2e tests read. Once per run (global setup) a template project is
 * made with the built CLI: `aegis init`, credentials for a local HTTPS upstream (one expiring in 3
 * days), agents with grants and a rate limit, users admin + operator + viewer. Each test file then
 * copies it (its own ledger, so files never see each other's requests), starts
 * `aegis dashboard --port 0 --gate-port 0` on the copy as the admin (a fresh one-time link: it is
 * valid 5 minutes), and may make a known set of allowed, blocked and failed requests through its gate.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { testPki } from '../../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../../packages/proxy/test/fixtures/upstream.js'
import { addCredential, BIN, initProject, parseJson, removeDir, runCli, tempDir } from '../helpers/run-cli.js'
import { gateGet } from './gate-client.js'

/** The gate's upstream timeout (ms): `/slow/<longer>` through the gate ends `failed` (upstream_timeout). */
export const REQUEST_TIMEOUT_MS = 2500

/** The template project (plain JSON: it goes through vitest's provide/inject). */
export interface Template {
  dir: string
  masterKey: string
  /** User tokens by role: alice (admin), oscar (operator), vera (viewer). */
  users: { admin: string; operator: string; viewer: string }
  /** Agent tokens by name. */
  agents: Record<string, string>
  credentials: { name: string; service: string; expiringInDays?: number }[]
}

async function cli(
  template: { dir: string; masterKey: string },
  args: string[],
  extra: Record<string, string> = {},
) {
  const r = await runCli(args, { cwd: template.dir, env: { AEGIS_MASTER_KEY: template.masterKey, ...extra } })
  if (r.code !== 0) throw new Error(`aegis ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r
}

/** Builds the template project with the CLI (about 10 s on a busy 2-core machine). */
export async function prepareTemplate(): Promise<Template> {
  const project = await initProject()
  const base = { dir: project.dir, masterKey: project.key }
  try {
    // A short upstream timeout, so a slow request turns from in flight to failed within a test.
    const configFile = join(project.dir, 'aegis.config.yaml')
    const config = readFileSync(configFile, 'utf8')
    if (!/^ {2}request_timeout: 30000/m.test(config)) throw new Error('init wrote no gate.request_timeout')
    writeFileSync(
      configFile,
      config.replace(/^ {2}request_timeout: 30000/m, `  request_timeout: ${REQUEST_TIMEOUT_MS}`),
    )

    // Credentials and agents (no users yet: the bootstrap context may do everything). Independent
    // writes run side by side (the vault database waits on its lock), to keep the setup short.
    await Promise.all([
      addCredential(
        project,
        ['--name', 'gh', '--service', 'github', '--domains', 'api.example.test', '--scopes', 'read'],
        'ghp_e2e_dashboard_secret_0123456789',
      ),
      addCredential(
        project,
        ['--name', 'slack-bot', '--service', 'slack', '--domains', 'api.example.test', '--ttl', '3'],
        'xoxb-e2e-dashboard-secret-0123456789',
      ),
      addCredential(
        project,
        ['--name', 'internal-api', '--service', 'internal', '--domains', 'down.example.test'],
        'sk-e2e-dashboard-internal-0123456789',
      ),
    ])
    const agents: Record<string, string> = {}
    const addAgent = async (name: string, extra: string[], grants: string[]) => {
      agents[name] = parseJson<{ token: string }>(
        await cli(base, ['agent', 'add', '--name', name, '--json', ...extra]),
      ).token
      for (const credential of grants)
        await cli(base, ['agent', 'grant', '--agent', name, '--credential', credential])
    }
    await Promise.all([
      addAgent('research-bot', [], ['gh', 'slack-bot']),
      addAgent('noisy-bot', ['--rate-limit', '2/min'], ['gh']),
      addAgent('ci-bot', [], ['internal-api', 'gh']),
    ])

    // Users: the first one needs no token (bootstrap), the others are added by the admin.
    const userToken = async (name: string, role: string, env: Record<string, string>) =>
      parseJson<{ token: string }>(
        await cli(base, ['user', 'add', '--name', name, '--role', role, '--json'], env),
      ).token
    const admin = await userToken('alice', 'admin', {})
    const [operator, viewer] = await Promise.all([
      userToken('oscar', 'operator', { AEGIS_USER_TOKEN: admin }),
      userToken('vera', 'viewer', { AEGIS_USER_TOKEN: admin }),
    ])
    return {
      ...base,
      users: { admin, operator, viewer },
      agents,
      credentials: [
        { name: 'gh', service: 'github' },
        { name: 'slack-bot', service: 'slack', expiringInDays: 3 },
        { name: 'internal-api', service: 'internal' },
      ],
    }
  } catch (error) {
    removeDir(project.dir)
    throw error
  }
}

/** A port nothing listens on (bound, then closed): the upstream that is down. */
async function closedPort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Resolves once `ready(output)` holds; rejects when the child exits first or time runs out. */
function waitForOutput(
  child: ChildProcess,
  output: () => string,
  ready: (out: string) => boolean,
  timeoutMs: number,
) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`aegis dashboard did not print its URLs within ${timeoutMs} ms:\n${output()}`))
    }, timeoutMs)
    const onData = () => {
      if (!ready(output())) return
      cleanup()
      resolve()
    }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`aegis dashboard exited ${code} before it listened:\n${output()}`))
    }
    const cleanup = () => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
    }
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
    onData()
  })
}

export const GATE_LINE = /^Aegis gate listening on http:\/\/127\.0\.0\.1:(\d+) \(vault "default"\)$/m
export const DASHBOARD_LINE = /^dashboard: (http:\/\/127\.0\.0\.1:(\d+))\/login#t=([A-Za-z0-9_-]{43})$/m

export interface Dashboard {
  /** `http://127.0.0.1:<port>` */
  url: string
  port: number
  /** The printed one-time login link. */
  loginUrl: string
  gatePort: number
  users: Template['users']
  agents: Template['agents']
  dir: string
  upstream: TestUpstream
  /** Everything the process printed so far (stdout and stderr). */
  output(): string
  /** SIGTERM, then the exit code (SIGKILL after 10 s); removes the copy. */
  stop(): Promise<number | null>
}

/**
 * Copies the template and starts `aegis dashboard --port 0 --gate-port 0` on it as the admin, with
 * agent auth required and the upstreams mapped: api.example.test → the local HTTPS upstream,
 * down.example.test → a closed port.
 */
export async function startDashboard(template: Template): Promise<Dashboard> {
  const dir = tempDir()
  cpSync(template.dir, dir, { recursive: true })
  // The upstream's CA: testPki() makes one per process, and the upstream runs in this one.
  writeFileSync(join(dir, 'upstream-ca.pem'), testPki().caCert)
  const upstream = await startUpstream()
  try {
    const down = await closedPort()
    const child = spawn(
      process.execPath,
      [
        BIN,
        'dashboard',
        '--port',
        '0',
        '--gate-port',
        '0',
        '--require-agent-auth',
        '--upstream-ca',
        join(dir, 'upstream-ca.pem'),
        '--resolve',
        `api.example.test:443:127.0.0.1:${upstream.port}`,
        '--resolve',
        `down.example.test:443:127.0.0.1:${down}`,
      ],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: dir,
          NO_COLOR: '1',
          AEGIS_MASTER_KEY: template.masterKey,
          AEGIS_USER_TOKEN: template.users.admin,
          AEGIS_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    // Always drained, so a chatty child never blocks on a full pipe; bounded for a long run.
    const keep = (d: string) => {
      out = (out + d).slice(-200_000)
    }
    child.stdout?.setEncoding('utf8').on('data', keep)
    child.stderr?.setEncoding('utf8').on('data', keep)
    try {
      await waitForOutput(
        child,
        () => out,
        (o) => GATE_LINE.test(o) && DASHBOARD_LINE.test(o),
        30_000,
      )
    } catch (error) {
      child.kill('SIGKILL')
      throw error
    }
    const dash = DASHBOARD_LINE.exec(out) as RegExpExecArray
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await once(child, 'exit')
        clearTimeout(timer)
      }
      await upstream.close()
      removeDir(dir)
      return child.exitCode
    }
    return {
      url: dash[1] as string,
      port: Number(dash[2]),
      loginUrl: dash[0].slice('dashboard: '.length),
      gatePort: Number(GATE_LINE.exec(out)?.[1]),
      users: template.users,
      agents: template.agents,
      dir,
      upstream,
      output: () => out,
      stop,
    }
  } catch (error) {
    await upstream.close()
    removeDir(dir)
    throw error
  }
}

/** What the scripted run leaves in the ledger: the numbers the views must show. */
export interface Expected {
  total: number
  allowed: number
  blocked: number
  failed: number
  codes: Record<string, number>
  /** Blocked counts by code and agent (null: no agent identified), count descending. */
  blockedGroups: { code: string; agent: string | null; count: number }[]
}

/**
 * The requests of the scripted run, in order, each checked against what the gate answered (so a
 * changed gate shows here, not as a puzzling count in a view).
 */
export async function scriptedRun(gatePort: number, agents: Record<string, string>): Promise<Expected> {
  const as = (agent: string, extra: Record<string, string> = {}) => ({
    'X-Aegis-Agent': agents[agent] as string,
    ...extra,
  })
  const plan: { path: string; headers: Record<string, string>; status: number; block?: string }[] = [
    // allowed: 3 github, 2 slack (the query string never reaches the ledger)
    { path: '/github/user?token=not-in-the-ledger', headers: as('research-bot'), status: 200 },
    { path: '/github/repos/acme/widgets', headers: as('research-bot'), status: 200 },
    { path: '/github/user', headers: as('ci-bot'), status: 200 },
    { path: '/slack/api/chat.postMessage', headers: as('research-bot'), status: 200 },
    { path: '/slack/api/conversations.list', headers: as('research-bot'), status: 200 },
    // blocked: domain not allowed ×3
    ...Array.from({ length: 3 }, () => ({
      path: '/github/user',
      headers: as('research-bot', { 'X-Target-Host': 'exfil.attacker.test' }),
      status: 403,
      block: 'domain_denied',
    })),
    // blocked: unknown service ×2
    { path: '/jira/rest/api/2/issue', headers: as('research-bot'), status: 404, block: 'service_not_found' },
    { path: '/jira/rest/api/2/search', headers: as('ci-bot'), status: 404, block: 'service_not_found' },
    // blocked: agent authentication failure (no agent is identified)
    {
      path: '/github/user',
      headers: { 'X-Aegis-Agent': 'aegis_agent_not-a-real-token-0000000000000000' },
      status: 401,
      block: 'agent_auth_invalid',
    },
    // noisy-bot has 2/min: 2 allowed, then 2 rate limited
    { path: '/github/events', headers: as('noisy-bot'), status: 200 },
    { path: '/github/events', headers: as('noisy-bot'), status: 200 },
    { path: '/github/events', headers: as('noisy-bot'), status: 429, block: 'rate_limited' },
    { path: '/github/events', headers: as('noisy-bot'), status: 429, block: 'rate_limited' },
    // failed: the upstream is down
    { path: '/internal/health', headers: as('ci-bot'), status: 502, block: 'upstream_unreachable' },
  ]
  for (const step of plan) {
    const reply = await gateGet(gatePort, step.path, step.headers)
    if (reply.status !== step.status || reply.block !== step.block) {
      throw new Error(
        `scripted request ${step.path}: expected ${step.status} ${step.block ?? ''}, got ${reply.status} ${reply.block ?? ''}`,
      )
    }
  }
  return {
    total: plan.length,
    allowed: 7,
    blocked: 8,
    failed: 1,
    codes: {
      domain_denied: 3,
      service_not_found: 2,
      rate_limited: 2,
      agent_auth_invalid: 1,
      upstream_unreachable: 1,
    },
    blockedGroups: [
      { code: 'domain_denied', agent: 'research-bot', count: 3 },
      { code: 'rate_limited', agent: 'noisy-bot', count: 2 },
      { code: 'service_not_found', agent: 'research-bot', count: 1 },
      { code: 'service_not_found', agent: 'ci-bot', count: 1 },
      { code: 'agent_auth_invalid', agent: null, count: 1 },
    ],
  }
}
