// Requests per second of `aegis gate` on SQLite, on PostgreSQL, and of three gates on one
// PostgreSQL together — real `aegis gate` processes (apps/cli/bin/run.js), so the figures include
// everything the command wires: the ledger committed before forwarding, the change feed, metrics.
//
// Usage: AEGIS_PG_URL=postgres://… node bench/multi-gate.js [--duration 8] [--warmup 2]
//          [--rounds 3] [--connections 16] [--no-write]
// AEGIS_PG_URL names a server on which the bench may create (and drops) a scratch database. The
// report goes to bench/results/<date>-pg.md (-b, -c, … when taken). Needs wrk and `pnpm build`.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { makePki, UPSTREAM_HOST } from './lib/pki.js'
import { cleanup, removeAtExit, track } from './lib/procs.js'
import { startUpstream } from './lib/servers.js'
import { runWrk, wrkVersion } from './lib/wrk.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'apps', 'cli', 'bin', 'run.js')
const KEY = 'bench-multi-gate-master-key-0123456789abcdef0123456789'

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}
const durationS = option('duration', 8)
const warmupS = option('warmup', 2)
const rounds = option('rounds', 3)
const connections = option('connections', 16)
const write = !process.argv.includes('--no-write')

const adminUrl = process.env.AEGIS_PG_URL
if (!adminUrl) {
  process.stderr.write(
    'bench/multi-gate: set AEGIS_PG_URL (a server where a scratch database may be created)\n',
  )
  process.exit(2)
}
if (wrkVersion() === null) {
  process.stderr.write('bench/multi-gate: wrk is not on PATH (apt-get install wrk)\n')
  process.exit(2)
}
for (const built of [join(ROOT, 'apps/cli/dist/commands'), join(ROOT, 'packages/pg/dist/testing.js')]) {
  if (!existsSync(built)) {
    process.stderr.write(`bench/multi-gate: ${built} is missing. Build first: pnpm build\n`)
    process.exit(2)
  }
}
const { scratchDatabase } = await import(pathToFileURL(join(ROOT, 'packages/pg/dist/testing.js')).href)

process.on('exit', cleanup)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

/** Runs the CLI in `cwd`; throws with its stderr when it fails. */
function aegis(cwd, env, args, input) {
  return execFileSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, NO_COLOR: '1', ...env },
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

/** A workspace with the bench credential (inspection off, as in bench/gate-server.js). */
function workspace(env) {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-multi-'))
  removeAtExit(dir)
  aegis(dir, env, ['init'])
  const file = join(dir, 'aegis.config.yaml')
  writeFileSync(file, readFileSync(file, 'utf8').replace('log_level: info', 'log_level: warn'))
  return dir
}
function addCredential(dir, env) {
  aegis(
    dir,
    env,
    [
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
      '--body-inspection',
      'off',
    ],
    'bench_secret_value_0123456789abcdef',
  )
}

/** Starts `aegis gate --port 0` and resolves with its port once it listens. */
function startGate(dir, env, pkiDir, upstreamPort) {
  const child = track(
    spawn(
      process.execPath,
      [
        BIN,
        'gate',
        '--port',
        '0',
        '--upstream-ca',
        join(pkiDir, 'ca.crt'),
        '--resolve',
        `${UPSTREAM_HOST}:443:127.0.0.1:${upstreamPort}`,
      ],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  )
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gate did not start:\n${out}`)), 30_000)
    const read = (chunk) => {
      out += chunk
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve({ child, port: Number(match[1]) })
      }
    }
    child.stdout.setEncoding('utf8').on('data', read)
    child.stderr.setEncoding('utf8').on('data', (c) => {
      out += c
    })
    child.once('exit', (code) => reject(new Error(`gate exited ${code}:\n${out}`)))
  })
}

/** wrk against every gate of a target at once (connections split between them); summed req/s. */
async function measure(gates, seconds) {
  const each = Math.max(1, Math.round(connections / gates.length))
  const runs = await Promise.all(
    gates.map((g) =>
      runWrk({
        url: `http://127.0.0.1:${g.port}/bench/small`,
        connections: each,
        threads: 1,
        durationS: seconds,
      }),
    ),
  )
  return {
    rps: runs.reduce((n, r) => n + r.rps, 0),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    errors: runs.reduce(
      (n, r) => n + r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout + r.errors.status,
      0,
    ),
  }
}

const pkiDir = makePki()
removeAtExit(pkiDir)
const upstream = await startUpstream(pkiDir)
const upstreamPort = upstream.info.port
const db = await scratchDatabase(adminUrl)
try {
  const pgEnv = { AEGIS_PG_URL: db.url, AEGIS_MASTER_KEY: KEY }
  const sqliteEnv = { AEGIS_MASTER_KEY: KEY }
  const sqliteDir = workspace(sqliteEnv)
  addCredential(sqliteDir, sqliteEnv)
  const pgDirs = [workspace(pgEnv), workspace(pgEnv), workspace(pgEnv)]
  addCredential(pgDirs[0], pgEnv)

  const targets = {
    'sqlite ×1': [await startGate(sqliteDir, sqliteEnv, pkiDir, upstreamPort)],
    'postgres ×1': [await startGate(pgDirs[0], pgEnv, pkiDir, upstreamPort)],
    'postgres ×3': await Promise.all(pgDirs.map((d) => startGate(d, pgEnv, pkiDir, upstreamPort))),
  }
  const names = Object.keys(targets)
  const results = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = 0; round < rounds; round++) {
    // Every other round in reverse order, so a drift in background load does not favour one target.
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const name of order) {
      await measure(targets[name], warmupS)
      results[name].push(await measure(targets[name], durationS))
      process.stderr.write(`round ${round + 1} ${name}: ${Math.round(results[name].at(-1).rps)} req/s\n`)
    }
  }
  for (const gate of Object.values(targets).flat()) gate.child.kill('SIGTERM')
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const pgVersion = (() => {
    try {
      // The settings that decide what a commit costs, next to the version: a test server started
      // with fsync=off commits far faster than a durable one.
      const show = (name) =>
        execFileSync('psql', [db.url, '-Atc', `SHOW ${name}`], { encoding: 'utf8' }).trim()
      return `${show('server_version')}, fsync=${show('fsync')}, synchronous_commit=${show('synchronous_commit')}`
    } catch {
      return 'unknown'
    }
  })()
  const sqliteRps = median(results['sqlite ×1'].map((r) => r.rps))
  const lines = [
    `# ${new Date().toISOString().slice(0, 10)}: one gate on SQLite, one on PostgreSQL, three on one PostgreSQL`,
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${pgVersion} (local, same machine), ${wrkVersion()}. ` +
      `Everything — wrk, upstream, gates, PostgreSQL — shares these cores.`,
    '',
    `\`aegis gate\` processes as shipped (ledger committed before forwarding, metrics on, agent auth off), GET /bench/small (61-byte JSON) over HTTPS to the local upstream, ` +
      `${connections} connections in all (split between the gates of a target), ${durationS} s measured after ${warmupS} s warm-up, ${rounds} rounds alternating the order; median round.`,
    '',
    '| target | req/s (median) | × sqlite ×1 | p50 ms | p99 ms | errors | rounds (req/s) |',
    '|---|---:|---:|---:|---:|---:|---|',
  ]
  for (const name of names) {
    const rs = results[name]
    const m = median(rs.map((r) => r.rps))
    const at = rs.find((r) => r.rps === m)
    lines.push(
      `| ${name} | ${Math.round(m).toLocaleString('en')} | ${(m / sqliteRps).toFixed(2)} | ${at.p50.toFixed(2)} | ${at.p99.toFixed(2)} | ${rs.reduce((n, r) => n + r.errors, 0)} | ${rs.map((r) => Math.round(r.rps)).join(', ')} |`,
    )
  }
  const report = `${lines.join('\n')}\n`
  process.stdout.write(report)
  if (write) {
    const day = new Date().toISOString().slice(0, 10)
    let file = join(ROOT, 'bench', 'results', `${day}-pg.md`)
    for (let c = 98; existsSync(file); c++)
      file = join(ROOT, 'bench', 'results', `${day}-${String.fromCharCode(c)}-pg.md`)
    writeFileSync(file, report)
    process.stderr.write(`written to ${file}\n`)
  }
} finally {
  await new Promise((r) => setTimeout(r, 500))
  cleanup()
  await db.drop()
}
process.exit(0)
