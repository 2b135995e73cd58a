// Where the CPU of one proxied request goes, across every process on the machine: the proxy (all
// its threads, and its event loop alone), the upstream's workers and the load generator itself.
// On a machine whose cores are all busy at saturation, req/s is set by that sum, not by the proxy's
// event loop alone: two proxies' req/s ratio is about the inverse ratio of their sums.
//
//   node bench/cpu-budget.js --pid <proxy pid> --url <url> [--upstream-pids 1,2] [--connections 16]
//                            [--seconds 5] [--header 'X-Aegis-Agent: …']
//
// Run it against the processes `../shared/bench/run` starts (the minimal proxy, `aegis gate`, nginx
// on 18443), one target after the other. Upstream workers default to every `nginx: worker` process.
// Prints one line: req/s and µs of CPU per request for each part, and the req/s two cores allow at
// that sum.
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { option } from './lib/args.js'
import { cpuSeconds, threadCpuSeconds } from './lib/proc-stats.js'

const args = process.argv.slice(2)
const pid = Number(option(args, 'pid', ''))
const url = option(args, 'url', '')
if (!pid || !url) {
  process.stderr.write('usage: node bench/cpu-budget.js --pid <proxy pid> --url <url> [options]\n')
  process.exit(2)
}
const connections = option(args, 'connections', '16')
const seconds = Number(option(args, 'seconds', '5'))
const header = option(args, 'header', undefined)
const cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim())
const upstreamPids = (
  option(args, 'upstream-pids', undefined) ??
  execFileSync('pgrep', ['-f', 'nginx: worker'], { encoding: 'utf8' }).trim()
)
  .split(/[\s,]+/)
  .filter(Boolean)
  .map(Number)

const threads = () => readdirSync(`/proc/${pid}/task`).map(Number)
const sum = (pids, read) => pids.reduce((total, p) => total + (read(p) ?? 0), 0)
const take = () => ({
  proxy: cpuSeconds(pid),
  loop: threadCpuSeconds(pid),
  others: sum(
    threads().filter((t) => t !== pid),
    (t) => threadCpuSeconds(pid, t),
  ),
  upstream: sum(upstreamPids, cpuSeconds),
})

const before = take()
const wrk = ['-t1', `-c${connections}`, `-d${seconds}s`, ...(header ? ['-H', header] : []), url]
// GNU time reports wrk's own user and system seconds on its last line of stderr.
const run = spawnSync('/usr/bin/time', ['-f', '%U %S', 'wrk', ...wrk], { encoding: 'utf8' })
const after = take()
if (run.status !== 0) {
  process.stderr.write(run.stderr)
  process.exit(2)
}
const [user, system] = run.stderr.trim().split('\n').at(-1).split(' ').map(Number)
const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1] ?? 0)
const requests = rps * seconds
const us = (s) => ((s * 1e6) / requests).toFixed(1)
const proxy = after.proxy - before.proxy
const upstream = after.upstream - before.upstream
const generator = user + system
const total = proxy + upstream + generator
console.log(
  `req/s ${rps.toFixed(0)}; µs of CPU per request: proxy ${us(proxy)} (event loop ${us(after.loop - before.loop)}, other threads ${us(after.others - before.others)}), upstream ${us(upstream)}, wrk ${us(generator)}, total ${us(total)}; ${cores} cores at that total: ${((cores * requests) / total).toFixed(0)} req/s`,
)
