/**
 * PolicyWatcher: keeps a PolicySet current as files in the directory change. `fs.watch` is only a
 * hint; the real signal is polling the listing and each file's size, mtime, ctime and inode.
 * A directory that cannot be read denies every agent until it can.
 */
import { type FSWatcher, statSync, watch } from 'node:fs'
import { join } from 'node:path'
import { PolicyError } from './errors.js'
import { listPolicyFiles, loadPolicyDir } from './loader.js'
import type { PolicySet } from './policy-set.js'

export interface PolicyWatcherOptions {
  /** Polling interval in milliseconds (default 500). */
  intervalMs?: number
  /** A new set is in place (also for the initial set, at `start()`); it may hold broken files. */
  onReload?: (set: PolicySet) => void
  /** The directory could not be read: every agent is denied until it can. */
  onError?: (error: Error) => void
}

const DEFAULT_INTERVAL_MS = 500
const HINT_DELAY_MS = 50

/** A set that denies every agent: for a directory that cannot be read. */
function deniedSet(error: PolicyError, previous: PolicySet | null): PolicySet {
  const broken = new Map<string, readonly PolicyError[]>()
  for (const agent of previous?.policies.keys() ?? []) broken.set(agent, [error])
  for (const [key] of previous?.broken ?? []) {
    if (!previous?.unattributed.includes(key)) broken.set(key, [error])
  }
  broken.set(error.file, [error])
  return { policies: new Map(), broken, unattributed: [error.file], errors: [error], files: [], entries: [] }
}

function asPolicyError(dir: string, error: unknown): PolicyError {
  if (error instanceof PolicyError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new PolicyError({ file: dir, line: null, path: '', reason: `cannot load policies: ${reason}` })
}

/** What the poll compares: the listing plus each file's identity and size. */
function signatureOf(dir: string): string {
  let names: string[]
  try {
    names = listPolicyFiles(dir)
  } catch (error) {
    return `error:${asPolicyError(dir, error).reason}`
  }
  return names
    .map((name) => {
      try {
        const s = statSync(join(dir, name), { bigint: true })
        return `${name}|${s.size}|${s.mtimeNs}|${s.ctimeNs}|${s.ino}`
      } catch {
        return `${name}|unreadable`
      }
    })
    .join('\n')
}

/**
 * Watches a policies directory. The constructor loads the directory synchronously (a missing or
 * unreadable directory gives a deny-all set rather than an exception); `start()` reports that set
 * through the callbacks and begins watching; `stop()` ends it.
 *
 *   const watcher = new PolicyWatcher('./policies', { onReload: (s) => log(s.errors), onError: log })
 *   watcher.start()
 *   decideForAgent(watcher.current, agent, request, { defaultPolicy: 'allow' })
 */
export class PolicyWatcher {
  readonly dir: string
  readonly #options: PolicyWatcherOptions
  #current: PolicySet
  #failure: PolicyError | null = null
  #signature: string
  #timer: NodeJS.Timeout | null = null
  #hint: NodeJS.Timeout | null = null
  #fsWatcher: FSWatcher | null = null

  constructor(dir: string, options: PolicyWatcherOptions = {}) {
    this.dir = dir
    this.#options = options
    this.#signature = signatureOf(dir)
    this.#current = this.#load(null)
  }

  /** The set in force now. */
  get current(): PolicySet {
    return this.#current
  }

  /** Reports the current set, then polls every `intervalMs` and listens to `fs.watch` hints. */
  start(): void {
    if (this.#timer !== null) return
    this.#report()
    const interval = this.#options.intervalMs ?? DEFAULT_INTERVAL_MS
    this.#timer = setInterval(() => this.#poll(), interval)
    this.#timer.unref()
    this.#attachHint()
  }

  /** Stops polling and watching. The current set stays as it is. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    if (this.#hint !== null) clearTimeout(this.#hint)
    this.#fsWatcher?.close()
    this.#timer = null
    this.#hint = null
    this.#fsWatcher = null
  }

  /** Loads the directory now, swaps the set in and reports it. */
  reload(): PolicySet {
    this.#signature = signatureOf(this.dir)
    this.#current = this.#load(this.#current)
    this.#report()
    return this.#current
  }

  #load(previous: PolicySet | null): PolicySet {
    try {
      const set = loadPolicyDir(this.dir)
      this.#failure = null
      return set
    } catch (error) {
      this.#failure = asPolicyError(this.dir, error)
      return deniedSet(this.#failure, previous)
    }
  }

  #report(): void {
    try {
      if (this.#failure !== null) this.#options.onError?.(this.#failure)
      else this.#options.onReload?.(this.#current)
    } catch (error) {
      try {
        this.#options.onError?.(error instanceof Error ? error : new Error(String(error)))
      } catch {
        // a failing error callback must not stop the watcher
      }
    }
  }

  #poll(): void {
    if (this.#fsWatcher === null) this.#attachHint()
    if (signatureOf(this.dir) !== this.#signature) this.reload()
  }

  #attachHint(): void {
    try {
      const watcher = watch(this.dir, { persistent: false }, () => this.#scheduleHint())
      watcher.on('error', () => {
        watcher.close()
        if (this.#fsWatcher === watcher) this.#fsWatcher = null
      })
      this.#fsWatcher = watcher
    } catch {
      this.#fsWatcher = null // polling alone still notices changes
    }
  }

  /** fs.watch saw something: reload shortly (content can change without size or mtime changing). */
  #scheduleHint(): void {
    if (this.#timer === null || this.#hint !== null) return
    this.#hint = setTimeout(() => {
      this.#hint = null
      if (this.#timer !== null) this.reload()
    }, HINT_DELAY_MS)
    this.#hint.unref()
  }
}
