// Aegis gate benchmark. `node bench/run.js` (or `pnpm bench`): direct vs a minimal undici proxy vs
// the gate with the ledger on (plain, with agent auth + policies, with inspection and 1,000 vault
// secrets), small and 16 KiB bodies and a 1 KiB POST, 16 and 64 connections, load from wrk in its
// own process. `node bench/run.js --soak`: 1 M requests through the gate, RSS every 5 s, ledger
// row count at the end. Prints a markdown report and writes it to bench/results/<date>[-soak].md
// (`<date>-b[-soak].md`, `-c`, … when that name is taken: earlier results are never overwritten).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { importBuilt } from './lib/deps.js'
import { makePki } from './lib/pki.js'
import { cleanup, removeAtExit } from './lib/procs.js'
import { machineLine } from './lib/report.js'
import { ALL_TARGETS, runScenarios } from './lib/scenarios.js'
import { runSoak } from './lib/soak.js'
import { wrkVersion } from './lib/wrk.js'

const { values: opts } = parseArgs({
  options: {
    soak: { type: 'boolean', default: false },
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    requests: { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '16,64' },
    targets: { type: 'string', default: ALL_TARGETS.join(',') },
    'cpu-prof': { type: 'boolean', default: false },
    'gate-node-options': { type: 'string', default: '' },
    'paced-rate': { type: 'string', default: '2000' },
    'paced-rounds': { type: 'string', default: '3' },
    'cost-rate': { type: 'string', default: '3000' },
    'cost-rounds': { type: 'string', default: '6' },
    rounds: { type: 'string', default: '1' },
    fresh: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (opts.help) {
  process.stdout.write(`usage: node bench/run.js [--soak] [options]
  --duration <s>       measured seconds per scenario (default 8)
  --warmup <s>         warm-up seconds per scenario (default 2)
  --connections <list> connection counts (default 16,64)
  --targets <list>     any of ${ALL_TARGETS.join(',')} (default all)
  --paced-rate <n>     req/s of the latency phase: direct, baseline and gate at a fixed
                       rate, 16 connections (default 2000; 0 skips the phase)
  --paced-rounds <n>   rounds of the latency phase, the targets taking turns (default 3)
  --cost-rate <n>      req/s of the cost phase: the plain gate and every other gate
                       configuration at a fixed rate, CPU per request compared round
                       by round; gate+metrics is judged on it (default 3000; 0 skips)
  --cost-rounds <n>    rounds of the cost phase (default 6)
  --rounds <n>         rounds of the throughput phase: for each body and connection
                       count the targets take turns n times; rows are the median
                       round (default 1)
  --fresh              with --rounds: restart every gate before each round, so the
                       median spans processes (two identical gates differ by up to
                       ±10 %: JIT and GC state of the process)
  --soak               1 M requests through the gate; RSS every 5 s; ledger row count
  --requests <n>       requests in the soak (default 1000000)
  --cpu-prof           run each gate under node --cpu-prof (profile paths in the notes;
                       summarise one with node bench/profile-top.js <file.cpuprofile>)
  --gate-node-options=<flags>
                       node flags for the gate processes only, e.g.
                       --gate-node-options=--max-semi-space-size=4 (named in the report)
  --no-write           print the report only, do not write bench/results/
`)
  process.exit(0)
}

process.on('exit', cleanup)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping every process it started\n`)
    cleanup()
    process.exit(130)
  })
}

const wrk = wrkVersion()
if (wrk === null) {
  process.stderr.write(
    'bench: wrk is not installed. Install it first, e.g. `sudo apt-get install -y wrk` (Debian/Ubuntu) ' +
      'or `brew install wrk` (macOS), then run `node bench/run.js` again.\n',
  )
  process.exit(2)
}
// Fails early, with the hint to build, when a package was not built.
for (const pkg of ['proxy', 'vault', 'ledger', 'policy']) await importBuilt(pkg)
const unknown = opts.targets.split(',').filter((t) => !ALL_TARGETS.includes(t))
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown target ${unknown.join(', ')} (one of ${ALL_TARGETS.join(', ')})\n`)
  process.exit(2)
}

const gateNodeArgs = opts['gate-node-options'].split(/\s+/).filter((a) => a !== '')
const pkiDir = makePki()
removeAtExit(pkiDir)
const log = (line) => process.stderr.write(`${line}\n`)
const startedAt = new Date()
const machine = machineLine(wrk)

try {
  const report = opts.soak
    ? await runSoak({
        pkiDir,
        log,
        machine,
        startedAt,
        requests: Number(opts.requests),
        cpuProf: opts['cpu-prof'],
        gateNodeArgs,
      })
    : await runScenarios({
        pkiDir,
        log,
        machine,
        startedAt,
        durationS: Number(opts.duration),
        warmupS: Number(opts.warmup),
        connections: opts.connections.split(',').map(Number),
        targets: opts.targets.split(','),
        cpuProf: opts['cpu-prof'],
        gateNodeArgs,
        pacedRate: positiveNumber('--paced-rate', opts['paced-rate'], { zero: true }),
        pacedRounds: positiveNumber('--paced-rounds', opts['paced-rounds']),
        costRate: positiveNumber('--cost-rate', opts['cost-rate'], { zero: true }),
        costRounds: positiveNumber('--cost-rounds', opts['cost-rounds']),
        rounds: positiveNumber('--rounds', opts.rounds),
        fresh: opts.fresh,
      })
  process.stdout.write(`${report.markdown}\n`)
  if (!opts['no-write']) {
    const dir = new URL('./results/', import.meta.url)
    mkdirSync(dir, { recursive: true })
    const name = resultName(dir, startedAt.toISOString().slice(0, 10), opts.soak ? '-soak' : '')
    writeFileSync(new URL(name, dir), `${report.markdown}\n`)
    log(`bench: written to bench/results/${name}`)
  }
  process.exitCode = report.passed ? 0 : 1
} catch (error) {
  log(`bench: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 2
} finally {
  cleanup()
}

/** `<date><kind>.md`, or `<date>-b<kind>.md`, `-c`, … when the name is taken. */
function resultName(dir, date, kind) {
  for (const suffix of ['', ...'bcdefghijklmnopqrstuvwxyz'.split('').map((l) => `-${l}`)]) {
    const name = `${date}${suffix}${kind}.md`
    if (!existsSync(new URL(name, dir))) return name
  }
  throw new Error(`bench/results/ already holds 26 reports of ${date}`)
}

/** A flag's value as a number, or exit 2 naming the flag. */
function positiveNumber(flag, text, { zero = false } = {}) {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0 || (value === 0 && !zero)) {
    process.stderr.write(
      `bench: ${flag} wants a whole number${zero ? ' (0 or more)' : ' above 0'}, got "${text}"\n`,
    )
    process.exit(2)
  }
  return value
}
