#!/usr/bin/env node
/**
 * CLI start time: the wall time of `aegis --version`, `aegis vault list` (and `node -e 0` as the
 * floor), each run N times in a fresh workspace, median and spread printed as markdown.
 *
 *   node bench/cli-start.js                          # this checkout, 15 runs of each
 *   node bench/cli-start.js --runs 25 /path/to/other/checkout   # two checkouts, runs interleaved
 *
 * With several checkouts the runs take turns (a, b, a, b, …) so a busy machine slows both alike.
 * Needs `pnpm build` in every checkout. Not a test: timing depends on the machine.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkoutsAndRuns } from './lib/args.js'

const { checkouts, runs } = checkoutsAndRuns(process.argv.slice(2), 15)

const MASTER_KEY = 'b'.repeat(64)
const commands = [
  ['node -e 0', null],
  ['aegis --version', ['--version']],
  ['aegis vault list', ['vault', 'list']],
]

/** One workspace per checkout (`aegis init`), so `vault list` opens a real vault. */
const targets = checkouts.map((dir) => {
  const bin = join(dir, 'apps', 'cli', 'bin', 'run.js')
  const cwd = mkdtempSync(join(tmpdir(), 'aegis-cli-start-'))
  const env = { PATH: process.env.PATH, HOME: cwd, AEGIS_MASTER_KEY: MASTER_KEY, NO_COLOR: '1' }
  const init = spawnSync(process.execPath, [bin, 'init'], { cwd, env, encoding: 'utf8' })
  if (init.status !== 0) throw new Error(`aegis init failed in ${dir}: ${init.stderr}`)
  return { dir, bin, cwd, env, times: new Map(commands.map(([name]) => [name, []])) }
})

function timeOnce(target, argv) {
  const start = process.hrtime.bigint()
  const r = spawnSync(process.execPath, argv === null ? ['-e', '0'] : [target.bin, ...argv], {
    cwd: target.cwd,
    env: target.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (r.status !== 0) throw new Error(`${argv?.join(' ')} failed: ${r.stderr}`)
  return ms
}

for (let i = 0; i < runs; i++) {
  for (const [name, argv] of commands) {
    const order = i % 2 === 0 ? targets : [...targets].reverse()
    for (const target of order) target.times.get(name).push(timeOnce(target, argv))
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmt = (ms) => `${Math.round(ms)}`

console.log(`runs: ${runs} per command and checkout (wall ms: median, min–max)\n`)
console.log(`| command | ${targets.map((t) => t.dir).join(' | ')} |`)
console.log(`|---|${targets.map(() => '---').join('|')}|`)
for (const [name] of commands) {
  const cells = targets.map((t) => {
    const xs = t.times.get(name)
    return `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`
  })
  console.log(`| ${name} | ${cells.join(' | ')} |`)
}
for (const t of targets) rmSync(t.cwd, { recursive: true, force: true })
