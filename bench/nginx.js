// The gate against a fast upstream: nginx over TLS answering `{"ok":true,"auth":"<Authorization>"}`
// (it echoes the injected credential, so every response holds the secret and is redacted). An
// upstream in Node shares the cores with the proxies and is the bottleneck of both, which squeezes
// every ratio towards 1; nginx answers far faster than any of the proxies, so what is measured is
// the proxy. Targets, each its own process(es):
//   direct     wrk straight to nginx (HTTPS), for reference
//   minproxy   bench/min-proxy.js, the yardstick: a minimal undici pass-through proxy
//   gate       the built `aegis gate` (apps/cli/bin/run.js), default config
//   gate-full  `aegis gate --require-agent-auth`, a 20-rule policy, body inspection `block`
// Cases: GET with 16 and 64 connections, POST 16 KiB with 16 (wrk -t1). Prints req/s, p50, p99, CPU
// per request (event loop and every thread) and peak RSS per target and their ratios to the
// yardstick; `--out <file.md>` also writes them.
//
//   node bench/nginx.js [--duration 10] [--warmup 2] [--targets direct,minproxy,gate,gate-full]
//                       [--log-level <level>] [--out bench/results/<name>.md]
//
// Needs nginx (Debian: nginx-light) and wrk, else it says so and exits 0 (skipped); openssl for the
// certificate; a build (`pnpm build`). Listens on free ports of 127.0.0.1 only; every process it
// starts is stopped and its temp directory removed at the end, also on an error or Ctrl-C.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs'
import { createServer, connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { AGENT_NAME, policyYaml } from './lib/gate-variants.js'
import { UPSTREAM_HOST } from './lib/pki.js'
import { cpuSeconds, peakRssBytes, sampleRss, threadCpuSeconds } from './lib/proc-stats.js'
import { cleanup, removeAtExit, startNode, stop, track } from './lib/procs.js'
import { machineLine } from './lib/report.js'
import { runWrk, wrkVersion } from './lib/wrk.js'

const ALL_TARGETS = ['direct', 'minproxy', 'gate', 'gate-full']
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    targets: { type: 'string', default: ALL_TARGETS.join(',') },
    'log-level': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (opts.help) {
  process.stdout.write(`usage: node bench/nginx.js [options]
  --duration <s>     measured seconds per target and case (default 10)
  --warmup <s>       warm-up seconds before each measured run (default 2; 0: none)
  --targets <list>   any of ${ALL_TARGETS.join(',')} (default all; minproxy is the yardstick)
  --log-level <l>    AEGIS_LOG_LEVEL for the gates (default: unset, the gate's default)
  --out <file.md>    also write the report there
`)
  process.exit(0)
}

const durationS = positive('duration', opts.duration)
const warmupS = positive('warmup', opts.warmup, true)
const targets = opts.targets.split(',').filter(Boolean)
for (const t of targets) {
  if (!ALL_TARGETS.includes(t)) fail(`--targets: unknown target "${t}" (one of ${ALL_TARGETS.join(', ')})`)
}

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'apps/cli/bin/run.js')
if (spawnSync('nginx', ['-v'], { stdio: 'ignore' }).error) {
  skip('nginx is not installed (Debian/Ubuntu: apt-get install nginx-light)')
}
const wrk = wrkVersion()
if (wrk === null) skip('wrk is not installed (Debian/Ubuntu: apt-get install wrk)')
if (
  !existsSync(join(root, 'apps/cli/dist/commands/gate.js')) ||
  !existsSync(join(root, 'packages/proxy/dist/index.js'))
) {
  fail('the gate is not built: run pnpm build first', 2)
}

process.on('exit', cleanup)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup()
    process.exit(130)
  })
}

const CASES = [
  { name: 'GET c16', connections: 16, request: {} },
  { name: 'GET c64', connections: 64, request: {} },
  {
    name: 'POST 16 KiB c16',
    connections: 16,
    request: {
      method: 'POST',
      body: `{"text":"${'a'.repeat(16 * 1024)}"}`,
      headers: { 'Content-Type': 'application/json' },
    },
  },
]
const SECRET = 'bench-secret-token'

try {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-nginx-'))
  removeAtExit(dir)
  const cert = selfSignedCert(dir)
  const nginxPort = await freePort()
  const started = { direct: { url: `https://127.0.0.1:${nginxPort}/echo`, pid: null } }
  await startNginx(dir, cert, nginxPort)

  if (targets.includes('minproxy')) {
    const proxy = await startNode('min-proxy.js', [cert.crt, String(nginxPort)])
    started.minproxy = { url: `http://127.0.0.1:${proxy.info.port}/bench/echo`, pid: proxy.pid, proc: proxy }
  }
  for (const variant of ['gate', 'gate-full']) {
    if (targets.includes(variant)) started[variant] = await startGate(dir, variant, cert, nginxPort)
  }

  const rows = []
  const peaks = {}
  for (const c of CASES) {
    for (const name of targets) {
      const target = started[name]
      const run = (seconds) =>
        runWrk({
          url: target.url,
          connections: c.connections,
          threads: 1,
          durationS: seconds,
          request: c.request,
          agentToken: target.agentToken ?? null,
        })
      if (warmupS > 0) await run(warmupS)
      const rss = target.pid === null ? null : sampleRss(target.pid, 200)
      const cpuBefore = cpuOf(target.pid)
      const figures = await run(durationS)
      const cpu = perRequestUs(cpuBefore, cpuOf(target.pid), figures.requests)
      rss?.stop()
      if (rss !== null) peaks[name] = Math.max(peaks[name] ?? 0, rss.peak())
      const errors = Object.values(figures.errors).reduce((a, b) => a + b, 0)
      rows.push({ case: c.name, target: name, ...figures, cpu, errorCount: errors })
      process.stderr.write(`${c.name} ${name}: ${Math.round(figures.rps)} req/s\n`)
    }
  }
  // VmHWM covers the whole life of the process, start-up included; the samples only the load.
  for (const name of targets) {
    const pid = started[name].pid
    if (pid !== null) peaks[name] = Math.max(peaks[name] ?? 0, peakRssBytes(pid) ?? 0)
  }
  for (const name of targets) if (started[name].proc) await stop(started[name].proc)

  const report = render(rows, peaks, wrk)
  process.stdout.write(report)
  if (opts.out) {
    mkdirSync(dirname(opts.out), { recursive: true })
    writeFileSync(opts.out, report)
    process.stderr.write(`bench: report written to ${opts.out}\n`)
  }
} catch (error) {
  process.stderr.write(`bench/nginx.js: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 2
} finally {
  cleanup()
}

/** CPU seconds so far of the process's event loop (its main thread) and of all its threads. */
function cpuOf(pid) {
  if (pid === null) return null
  const main = threadCpuSeconds(pid)
  const all = cpuSeconds(pid)
  return main === null || all === null ? null : { main, all }
}

/**
 * CPU µs per request over a run, event loop and whole process (the ledger writer, V8's compiler
 * and GC helpers, libuv's pool). At saturation on a shared machine every process's CPU per
 * request bounds its throughput, so this says where a ratio comes from.
 */
function perRequestUs(before, after, requests) {
  if (before === null || after === null || !(requests > 0)) return null
  return {
    main: ((after.main - before.main) * 1e6) / requests,
    all: ((after.all - before.all) * 1e6) / requests,
  }
}

function positive(flag, text, zeroOk = false) {
  const n = Number(text)
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk))
    fail(`--${flag}: expected a positive number, got "${text}"`)
  return n
}

function fail(message, code = 2) {
  process.stderr.write(`bench/nginx.js: ${message}\n`)
  process.exit(code)
}

function skip(why) {
  process.stderr.write(`bench/nginx.js: SKIPPED: ${why}\n`)
  process.exit(0)
}

/** A self-signed certificate for the upstream's host name (the gate and the yardstick trust it as a CA). */
function selfSignedCert(dir) {
  const crt = join(dir, 'upstream.crt')
  const key = join(dir, 'upstream.key')
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '2'].concat([
      '-subj',
      `/CN=${UPSTREAM_HOST}`,
      '-addext',
      `subjectAltName=DNS:${UPSTREAM_HOST},IP:127.0.0.1`,
    ]),
    { stdio: 'pipe' },
  )
  return { crt, key }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once something accepts TCP connections on the port (rejects after `timeoutMs`). */
async function listening(port, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline)
      throw new Error(`${what} did not listen on port ${port} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** nginx as the upstream: one worker, TLS, every path answered with the Authorization it got. */
async function startNginx(dir, cert, port) {
  const temp = (name) => `${name}_temp_path ${join(dir, `nginx-${name}`)};`
  const conf = `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'nginx.err')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert.crt};
    ssl_certificate_key ${cert.key};
    location / {
      default_type application/json;
      return 200 '{"ok":true,"auth":"$http_authorization"}';
    }
  }
}
`
  const file = join(dir, 'nginx.conf')
  writeFileSync(file, conf)
  const log = openSync(join(dir, 'nginx.out'), 'a')
  track(
    spawn('nginx', ['-p', dir, '-e', join(dir, 'nginx.err'), '-c', file], { stdio: ['ignore', log, log] }),
  )
  await listening(port, 'nginx')
}

/** The environment of the CLI: no AEGIS_* of the caller's (a config or log level would change the gate). */
function cliEnv() {
  const env = {}
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AEGIS_')) env[name] = value
  // A throwaway vault in a temp dir; the key only has to be the same for every command.
  env.AEGIS_MASTER_KEY = 'b'.repeat(64)
  if (opts['log-level'] !== undefined) env.AEGIS_LOG_LEVEL = opts['log-level']
  return env
}

function aegis(cwd, args, input) {
  return execFileSync(process.execPath, [cli, ...args], {
    cwd,
    env: cliEnv(),
    input: input ?? '',
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

/**
 * `aegis gate` in a fresh data dir: `gate` with the default config, `gate-full` with agent auth, a
 * 20-rule policy (the allowing rule last) and body inspection `block`. The agent token goes to wrk
 * through its environment only.
 */
async function startGate(parent, variant, cert, nginxPort) {
  const cwd = join(parent, variant)
  mkdirSync(cwd)
  aegis(cwd, ['init'])
  const add = [
    'vault',
    'add',
    '--name',
    'bench',
    '--service',
    'bench',
    '--secret',
    '-',
    '--domains',
    UPSTREAM_HOST,
  ]
  const extra = []
  let agentToken = null
  if (variant === 'gate-full') {
    aegis(cwd, [...add, '--body-inspection', 'block'], SECRET)
    agentToken = JSON.parse(aegis(cwd, ['agent', 'add', '--name', AGENT_NAME, '--json'])).token
    if (typeof agentToken !== 'string') throw new Error('aegis agent add --json printed no token')
    aegis(cwd, ['agent', 'grant', '--agent', AGENT_NAME, '--credential', 'bench'])
    const policies = join(cwd, 'policies')
    mkdirSync(policies)
    writeFileSync(
      join(policies, `${AGENT_NAME}.yaml`),
      policyYaml({ methods: '[GET, POST]', paths: '[/echo]' }),
    )
    extra.push('--require-agent-auth', '--policies-dir', policies)
  } else {
    aegis(cwd, add, SECRET)
  }
  const port = await freePort()
  const log = openSync(join(cwd, 'gate.log'), 'a')
  const args = [cli, 'gate', '--port', String(port), '--upstream-ca', cert.crt]
  args.push('--resolve', `${UPSTREAM_HOST}:443:127.0.0.1:${nginxPort}`, ...extra)
  const child = track(spawn(process.execPath, args, { cwd, env: cliEnv(), stdio: ['ignore', log, log] }))
  await listening(port, `aegis gate (${variant}; its log: ${join(cwd, 'gate.log')})`)
  return {
    url: `http://127.0.0.1:${port}/bench/echo`,
    pid: child.pid,
    proc: { child },
    agentToken,
  }
}

function render(rows, peaks, wrkLine) {
  const base = (c) => rows.find((r) => r.case === c && r.target === 'minproxy')
  const ms = (v) => v.toFixed(2)
  const times = (a, b) => (b ? `${(a / b).toFixed(2)}×` : '')
  const lines = [
    `# Gate against an nginx upstream (${new Date().toISOString().slice(0, 16)}Z)`,
    '',
    `Machine: ${machineLine(wrkLine)}, ${nginxVersion()}. wrk -t1, ${warmupS} s warm-up + ${durationS} s measured per`,
    'target and case. Yardstick: `minproxy` (bench/min-proxy.js). Upstream: nginx over TLS echoing the',
    'Authorization header, so every gate response holds the credential and is redacted.',
    '',
    'CPU: µs per request of the event loop and of the whole process (every thread), over the',
    'measured run (/proc).',
    '',
    '| case | target | req/s | × minproxy | p50 ms | p99 ms | p99 × minproxy | CPU µs/req loop / all | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const us = (cpu) => (cpu === null ? '' : `${cpu.main.toFixed(1)} / ${cpu.all.toFixed(1)}`)
  for (const r of rows) {
    const b = r.target === 'minproxy' ? null : base(r.case)
    lines.push(
      `| ${r.case} | ${r.target} | ${Math.round(r.rps).toLocaleString('en-US')} | ${b ? times(r.rps, b.rps) : ''} | ` +
        `${ms(r.p50)} | ${ms(r.p99)} | ${b ? times(r.p99, b.p99) : ''} | ${us(r.cpu)} | ${r.errorCount} |`,
    )
  }
  lines.push('', '| target | peak RSS | − minproxy |', '|---|---:|---:|')
  const mb = (bytes) => (bytes / 2 ** 20).toFixed(1)
  for (const [name, bytes] of Object.entries(peaks)) {
    const b = peaks.minproxy
    lines.push(
      `| ${name} | ${mb(bytes)} MB | ${name !== 'minproxy' && b ? `${bytes >= b ? '+' : ''}${mb(bytes - b)} MB` : ''} |`,
    )
  }
  const ratios = []
  for (const name of ['gate', 'gate-full']) {
    const parts = CASES.map((c) => {
      const r = rows.find((x) => x.case === c.name && x.target === name)
      const b = base(c.name)
      return r && b ? `${c.name} ${(r.rps / b.rps).toFixed(2)}` : null
    }).filter(Boolean)
    if (parts.length > 0) ratios.push(`${name}/minproxy: ${parts.join(', ')}`)
  }
  if (ratios.length > 0) lines.push('', ratios.join('; '))
  return `${lines.join('\n')}\n`
}

function nginxVersion() {
  const out = spawnSync('nginx', ['-v'], { encoding: 'utf8' })
  return (out.stderr || out.stdout || 'nginx').trim().replace(/^nginx version:\s*/, '')
}
