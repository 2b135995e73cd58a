/**
 * Files staged beside their final place (`stageFile` of @aegis/vault: `.<name>.<12 hex>.tmp`, O_EXCL,
 * the final mode) hold what the final file will hold: with `init --write-secrets`, the master key.
 * While one exists, an interrupt (SIGINT, SIGTERM, SIGHUP) or an exit removes it before the process
 * ends; what nothing can clean up (SIGKILL, a power cut) is found by the next `aegis init` and by
 * `aegis doctor` through `stagedLeftovers`.
 */
import { readdirSync, rmSync } from 'node:fs'
import { constants } from 'node:os'
import { basename, dirname, join } from 'node:path'

const STAGED_NAME = /^\.(.+)\.[0-9a-f]{12}\.tmp$/
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
const pending = new Set<string>()

function removePending(): void {
  for (const file of pending) rmSync(file, { force: true })
  pending.clear()
}

function onSignal(signal: NodeJS.Signals): void {
  removePending()
  stopWatching()
  // End the process as the signal asked: with no other listener, by the signal's own action; with
  // one (a library's exit hook, which waits to be the last), by exit 128 + its number, as a shell does.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  else process.exit(128 + constants.signals[signal])
}

function stopWatching(): void {
  for (const signal of SIGNALS) process.off(signal, onSignal)
  process.off('exit', removePending)
}

/**
 * Removes `file` if the process is interrupted or exits before `release()` is called (call it once
 * the file was committed or discarded). A signal is handled between two turns of the event loop, so
 * a synchronous stage-and-rename is never cut in the middle.
 */
export function removeOnInterrupt(file: string): () => void {
  if (pending.size === 0) {
    for (const signal of SIGNALS) process.on(signal, onSignal)
    process.on('exit', removePending)
  }
  pending.add(file)
  return () => {
    pending.delete(file)
    // A signal that came during the synchronous work before this is handled on the next turn of
    // the event loop: the listener stays until then, so the process still ends as asked.
    if (pending.size === 0) {
      setImmediate(() => {
        if (pending.size === 0) stopWatching()
      })
    }
  }
}

/**
 * Staged files left in `dir` by a process that never committed or removed them; with `target`, only
 * those staged for that file.
 */
export function stagedLeftovers(dir: string, target?: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const wanted = target === undefined ? undefined : basename(target)
  return names
    .filter((name) => {
      const match = STAGED_NAME.exec(name)
      return match !== null && (wanted === undefined || match[1] === wanted)
    })
    .sort()
    .map((name) => join(dir, name))
}

/** Removes the staged files left for `target`; returns those it removed. */
export function removeStagedLeftovers(target: string): string[] {
  const found = stagedLeftovers(dirname(target), target)
  for (const file of found) rmSync(file, { force: true })
  return found
}
