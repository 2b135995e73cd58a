import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** Every child the runner started and has not yet seen exit. */
const live = new Set()
/** Temp directories to remove at the end. */
const dirs = new Set()

/** Removes `dir` (recursively) when `cleanup` runs. */
export function removeAtExit(dir) {
  dirs.add(dir)
}

/**
 * Starts `node bench/<script> ...args` and resolves once it printed its first JSON line
 * (`{"port": …}`). Later JSON lines are kept in `messages`.
 */
export function startNode(script, args, { nodeArgs = [], readyTimeoutMs = 30_000 } = {}) {
  const file = fileURLToPath(new URL(`../${script}`, import.meta.url))
  const child = spawn(process.execPath, [...nodeArgs, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)
  const messages = []
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const lines = createInterface({ input: child.stdout })
  const waiters = []
  /** Sends SIGUSR2 and resolves with the `key` of the next message carrying it (null after 2 s). */
  function ask(key) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 2000)
      const wait = (message) => {
        if (message[key] === undefined) {
          waiters.push(wait)
          return
        }
        clearTimeout(timer)
        resolve(message[key])
      }
      waiters.push(wait)
      child.kill('SIGUSR2')
    })
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${script} did not start within ${readyTimeoutMs} ms`)),
      readyTimeoutMs,
    )
    function fail(error) {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${error.message}${stderr ? `\n--- ${script} stderr ---\n${stderr}` : ''}`))
    }
    child.once('exit', (code, signal) => fail(new Error(`${script} exited early (${signal ?? code})`)))
    child.once('error', fail)
    lines.on('line', (line) => {
      let message
      try {
        message = JSON.parse(line)
      } catch {
        return
      }
      if (messages.length === 0) {
        clearTimeout(timer)
        child.removeAllListeners('exit')
        messages.push(message)
        resolve({ child, pid: child.pid, info: message, messages, stderr: () => stderr, ask })
      } else {
        messages.push(message)
        for (const waiter of waiters.splice(0)) waiter(message)
      }
    })
  })
}

/** Asks a child to stop (SIGTERM) and waits for it; SIGKILL after `graceMs`. */
export async function stop(proc, graceMs = 15_000) {
  const { child } = proc
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Registers a child so `killAll` can end it. */
export function track(child) {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/**
 * Kills every child still running (each by its own pid) and removes the temp directories.
 * Synchronous: safe in an 'exit' handler.
 */
export function cleanup() {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs.clear()
}
