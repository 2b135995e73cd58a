#!/usr/bin/env node
/**
 * Resident memory of an idle `aegis gate`: VmRSS and VmHWM (peak) from /proc, 3 s after start,
 * for one or more checkouts, runs taking turns (a, b, a, b, …). Each checkout gets its own
 * `aegis init` workspace (SQLite, default config). Linux only (reads /proc); needs `pnpm build`.
 *
 *   node bench/gate-idle-rss.js --runs 5 /work/main /path/to/other/checkout
 *
 * Not a test: memory depends on the machine and Node version.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkoutsAndRuns } from './lib/args.js'

const { checkouts, runs } = checkoutsAndRuns(process.argv.slice(2), 3)

const MASTER_KEY = 'b'.repeat(64)
const SETTLE_MS = 3000

const targets = checkouts.map((dir) => {
  const bin = join(dir, 'apps', 'cli', 'bin', 'run.js')
  const cwd = mkdtempSync(join(tmpdir(), 'aegis-gate-rss-'))
  const env = { PATH: process.env.PATH, HOME: cwd, AEGIS_MASTER_KEY: MASTER_KEY, NO_COLOR: '1' }
  const init = spawnSync(process.execPath, [bin, 'init'], { cwd, env, encoding: 'utf8' })
  if (init.status !== 0) throw new Error(`aegis init failed in ${dir}: ${init.stderr}`)
  return { dir, bin, cwd, env, rss: [], hwm: [] }
})

/** The kB figure of one /proc/<pid>/status line, in MB. */
function statusMb(status, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  if (!m) throw new Error(`no ${field} in /proc status`)
  return Number(m[1]) / 1024
}

async function measureOnce(target) {
  const child = spawn(process.execPath, [target.bin, 'gate', '--port', '0'], {
    cwd: target.cwd,
    env: target.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const onData = (d) => {
    output += d
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const exited = new Promise((done) => child.once('exit', done))
  await new Promise((done) => setTimeout(done, SETTLE_MS))
  if (!/listening on/.test(output)) {
    child.kill('SIGKILL')
    throw new Error(`the gate of ${target.dir} did not start: ${output}`)
  }
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
  child.kill('SIGINT')
  await exited
  target.rss.push(statusMb(status, 'VmRSS'))
  target.hwm.push(statusMb(status, 'VmHWM'))
}

for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? targets : [...targets].reverse()
  for (const target of order) await measureOnce(target)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const cell = (xs) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`

console.log(`runs: ${runs} per checkout; idle gate ${SETTLE_MS / 1000} s after start (MB: median, min–max)\n`)
console.log('| checkout | VmRSS | VmHWM (peak) |')
console.log('|---|---:|---:|')
for (const t of targets) console.log(`| ${t.dir} | ${cell(t.rss)} | ${cell(t.hwm)} |`)
for (const t of targets) rmSync(t.cwd, { recursive: true, force: true })
