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
 *
 * With a rate (`-- <limit|-> <requests/s per thread>`) each thread sends on a fixed schedule
 * instead of as fast as it can: request k of a thread is due at start + k × interval, and a
 * connection whose response is in waits (wrk's delay()) for the next due time. A thread that fell
 * behind sends at once and its schedule restarts from now. wrk waits whole milliseconds, so a
 * request may leave up to 1 ms early; the schedule, not the waits, sets the rate. wrk has no clock
 * for Lua, so the script reads CLOCK_MONOTONIC through LuaJIT's FFI (wrk is built on LuaJIT).
 */
const SCRIPT = `
local threads = {}
local function pace(intervalMs)
  local ok, ffi = pcall(require, "ffi")
  if not ok then error("a paced run needs wrk built with LuaJIT (its ffi module)") end
  ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
             int clock_gettime(int clock, bench_timespec *ts); ]]
  local ts = ffi.new("bench_timespec")
  local function nowMs()
    ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local due = nowMs()
  delay = function()
    local now = nowMs()
    local wait = due - now
    due = math.max(due, now) + intervalMs
    if wait < 0 then return 0 end
    return wait
  end
end
function setup(thread)
  table.insert(threads, thread)
  -- wrk calls the first thread's request() once to check it before any request is sent.
  if #threads == 1 then thread:set("sent", -1) end
end
function init(args)
  limit = tonumber(args[1] or "")
  local perThread = tonumber(args[2] or "")
  if perThread ~= nil then pace(1000 / perThread) end
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
    '"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f,"max":%.0f,"mean":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\\n',
    summary.requests, summary.duration, summary.bytes, total,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`

/**
 * The request wrk sends, set before wrk builds it: method, body, extra headers. The agent token is
 * read from wrk's environment (`BENCH_AGENT_TOKEN`), so it never appears in argv or in a file.
 */
function prelude({ method = 'GET', body = null, headers = {} }) {
  const lines = [`wrk.method = ${luaString(method)}`]
  if (body !== null) lines.push(`wrk.body = ${luaString(body)}`)
  for (const [name, value] of Object.entries(headers)) {
    lines.push(`wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`)
  }
  lines.push(
    'local agentToken = os.getenv("BENCH_AGENT_TOKEN")',
    'if agentToken ~= nil and agentToken ~= "" then wrk.headers["X-Aegis-Agent"] = agentToken end',
  )
  return `${lines.join('\n')}\n`
}

/** A Lua string literal for any text (a long bracket with a level the text does not contain). */
function luaString(text) {
  let level = ''
  while (text.includes(`]${level}]`)) level += '='
  return `[${level}[${text}]${level}]`
}

/** One script file per distinct request shape, in a temp dir removed at exit. */
const scriptFiles = new Map()
let scriptDir = null

function scriptFor(request) {
  const key = JSON.stringify(request)
  let file = scriptFiles.get(key)
  if (file === undefined) {
    if (scriptDir === null) {
      scriptDir = mkdtempSync(join(tmpdir(), 'aegis-bench-wrk-'))
      removeAtExit(scriptDir)
    }
    file = join(scriptDir, `bench-${scriptFiles.size}.lua`)
    writeFileSync(file, `${prelude(request)}${SCRIPT}`)
    scriptFiles.set(key, file)
  }
  return file
}

/** The installed wrk's version line, or null when wrk is not on PATH. */
export function wrkVersion() {
  const result = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
  if (result.error) return null
  const first = `${result.stdout}${result.stderr}`.split('\n')[0] ?? 'wrk'
  return first.replace(/\s*\[.*$|\s*Copyright.*$/, '').trim()
}

/**
 * Runs wrk in its own process and resolves with its figures: requests/s, latency percentiles in ms,
 * error counts. `limitPerThread` switches on exact request counting (and stopping); `rate`
 * (requests/s over all threads) paces the run instead of sending as fast as wrk can. `request`
 * sets the method, body and headers (default GET, no body); `agentToken` is sent as
 * `X-Aegis-Agent` and handed to wrk through its environment only.
 */
export function runWrk({
  url,
  connections,
  threads = 2,
  durationS,
  timeoutS = 5,
  limitPerThread,
  rate,
  raw,
  request = {},
  agentToken = null,
}) {
  const scriptFile = scriptFor(request)
  const args = [
    `-t${threads}`,
    `-c${connections}`,
    `-d${durationS}s`,
    `--timeout`,
    `${timeoutS}s`,
    '--latency',
  ]
  args.push('-s', scriptFile, url)
  if (limitPerThread !== undefined && rate !== undefined) {
    throw new Error('runWrk: a run is either counted (limitPerThread) or paced (rate), not both')
  }
  if (limitPerThread !== undefined) args.push('--', String(limitPerThread))
  if (rate !== undefined) args.push('--', '-', String(rate / threads))
  const env = { ...process.env }
  delete env.BENCH_AGENT_TOKEN
  if (agentToken !== null) env.BENCH_AGENT_TOKEN = agentToken
  const child = track(spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'], env }))
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
    // 'close', not 'exit': 'exit' may come before the last of stdout was read, and a report
    // missing its summary line reads as a failed run.
    child.once('close', (code, signal) => {
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
        p999: figures.p999 / 1000,
        max: figures.max / 1000,
        mbPerSecond: figures.bytes / seconds / 1e6,
        errors: figures.errors,
        raw: raw ? out : undefined,
      })
    })
  })
}
