import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let ticksPerSecond = 100
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
} catch {
  // keep the Linux default
}

/** A process's resident set size in bytes (VmRSS), or null when it is gone. */
export function rssBytes(pid) {
  return statusField(pid, 'VmRSS')
}

/** The process's peak resident set size so far (VmHWM), bytes. */
export function peakRssBytes(pid) {
  return statusField(pid, 'VmHWM')
}

function statusField(pid, field) {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'),
    )
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

/** CPU seconds (user + system) the process has used so far, or null when it is gone. */
export function cpuSeconds(pid) {
  return statCpuSeconds(`/proc/${pid}/stat`)
}

/**
 * CPU seconds of one thread of a process; the main thread (a Node process's event loop) is the one
 * whose id is the process id. Null when it is gone.
 */
export function threadCpuSeconds(pid, tid = pid) {
  return statCpuSeconds(`/proc/${pid}/task/${tid}/stat`)
}

function statCpuSeconds(file) {
  try {
    const stat = readFileSync(file, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
  } catch {
    return null
  }
}

/** Samples a process's RSS every `intervalMs` until stopped. */
export function sampleRss(pid, intervalMs) {
  const samples = []
  const startedAt = Date.now()
  const take = () => {
    const bytes = rssBytes(pid)
    if (bytes !== null) samples.push({ atMs: Date.now() - startedAt, bytes })
  }
  take()
  const timer = setInterval(take, intervalMs)
  return {
    samples,
    stop() {
      clearInterval(timer)
      take()
      return samples
    },
    peak: () => samples.reduce((max, s) => Math.max(max, s.bytes), 0),
  }
}

/**
 * Measures the CPU a set of processes uses from now until the returned function is called, in
 * cores (1.0 = one core busy), one figure per pid. With `thread` the figures are those of each
 * process's main thread only (for Node, the event loop).
 */
export function cpuMeter(pids, { thread = false } = {}) {
  const read = thread ? threadCpuSeconds : cpuSeconds
  const startedAt = process.hrtime.bigint()
  const before = pids.map((pid) => read(pid) ?? 0)
  return () => {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9
    return pids.map((pid, i) => ((read(pid) ?? 0) - (before[i] ?? 0)) / seconds)
  }
}
