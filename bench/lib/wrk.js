import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeAtExit, track } from './procs.js'

/**
 * wrk's Lua hooks. `done` prints exact figures (µs) as one JSON line. With a per-thread limit
 * (`-- <n>`, 0 = count only) every request sent is counted; past n a thread sends nothing more and
 * stops once all its responses are in, so the number sent is exact and nothing is cut off (the soak
 * compares it with the ledger). A stopped thread says so on stdout: wrk itself would idle until
 * `-d` is over, so the runner interrupts it (SIGINT makes wrk print its summary) once all are done.
 * The count is exact over plain HTTP (the soak targets the gate); over TLS wrk calls request()
 * again when a write must be retried, so a request may be counted twice.
 */
const SCRIPT = `
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  -- wrk calls the first thread's request() once to check it before any request is sent.
  if #threads == 1 then thread:set("sent", -1) end
end
function init(args)
  limit = tonumber(args[1] or "")
  sent = sent or 0
  received = 0
  if limit == nil then
    sent = 0
    return
  end
  local req = wrk.format(nil, nil)
  request = function()
    sent = sent + 1
    return req
  end
  if limit == 0 then return end
  -- Past the limit a connection is parked (no new request); once every response is in, the thread
  -- stops with nothing in flight, so no request is cut off.
  delay = function()
    if sent >= limit then return 3600000 end
    return 0
  end
  response = function()
    received = received + 1
    if sent >= limit and received >= sent then
      io.write("BENCH_THREAD_DONE\\n")
      io.flush()
      wrk.thread:stop()
    end
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("sent") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%.0f,"durationUs":%.0f,"bytes":%.0f,"sent":%.0f,' ..
    '"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f,"mean":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\\n',
    summary.requests, summary.duration, summary.bytes, total,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`

let scriptFile = null

/** The installed wrk's version line, or null when wrk is not on PATH. */
export function wrkVersion() {
  const result = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
  if (result.error) return null
  const first = `${result.stdout}${result.stderr}`.split('\n')[0] ?? 'wrk'
  return first.replace(/\s*\[.*$|\s*Copyright.*$/, '').trim()
}

/**
 * Runs wrk in its own process and resolves with its figures: requests/s, latency percentiles in ms,
 * error counts. `limitPerThread` switches on exact request counting (and stopping).
 */
export function runWrk({ url, connections, threads = 2, durationS, timeoutS = 5, limitPerThread, raw }) {
  if (scriptFile === null) {
    const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-wrk-'))
    removeAtExit(dir)
    scriptFile = join(dir, 'bench.lua')
    writeFileSync(scriptFile, SCRIPT)
  }
  const args = [
    `-t${threads}`,
    `-c${connections}`,
    `-d${durationS}s`,
    `--timeout`,
    `${timeoutS}s`,
    '--latency',
  ]
  args.push('-s', scriptFile, url)
  if (limitPerThread !== undefined) args.push('--', String(limitPerThread))
  const child = track(spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] }))
  let out = ''
  let err = ''
  let interrupted = false
  let straggler
  const interrupt = () => {
    interrupted = true
    clearTimeout(straggler)
    child.kill('SIGINT')
  }
  child.stdout.on('data', (chunk) => {
    out += chunk
    const finished = out.match(/^BENCH_THREAD_DONE$/gm)?.length ?? 0
    if (finished === 0 || !(limitPerThread > 0) || interrupted) return
    if (finished >= threads) interrupt()
    // A thread whose count went wrong must not keep wrk waiting for the whole -d.
    else straggler ??= setTimeout(interrupt, 30_000)
  })
  child.stderr.on('data', (chunk) => {
    err += chunk
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(straggler)
      const json = out.match(/^BENCH_JSON (.*)$/m)
      if (code !== 0 || json === null) {
        reject(new Error(`wrk failed (${signal ?? code}): ${err || out}`))
        return
      }
      const figures = JSON.parse(json[1] ?? '{}')
      const rpsLine = out.match(/^Requests\/sec:\s+([\d.]+)/m)
      const seconds = figures.durationUs / 1e6
      resolve({
        requests: figures.requests,
        sent: figures.sent,
        seconds,
        rps: rpsLine ? Number(rpsLine[1]) : figures.requests / seconds,
        p50: figures.p50 / 1000,
        p90: figures.p90 / 1000,
        p99: figures.p99 / 1000,
        max: figures.max / 1000,
        mbPerSecond: figures.bytes / seconds / 1e6,
        errors: figures.errors,
        raw: raw ? out : undefined,
      })
    })
  })
}
