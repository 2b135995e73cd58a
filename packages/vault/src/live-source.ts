import type { VaultStore } from './store.js'
import type { AgentRecord, Credential, CredentialLoad } from './types.js'

export interface LiveCredentialSourceOptions {
  /** A reload failed (the last snapshot stays in use). The host decides whether and how to log. */
  onError?(error: Error): void
  /**
   * After a failed reload the source reloads again by itself, the delay doubling from `minMs`
   * (default 100) up to `maxMs` (default 1000), until one succeeds: the change that asked for the
   * failed reload (a revocation) is announced once, and must not wait for the next change.
   */
  retry?: { minMs?: number; maxMs?: number }
}

interface Snapshot {
  load: CredentialLoad
  agents: AgentRecord[]
  /** The store's change token read before the load. */
  storeToken: string
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/**
 * A synchronous credential source (the shape @aegis/proxy's CredentialSource wants) over any
 * VaultStore: it serves the last loaded snapshot of credentials and agents from memory, so the
 * request path never waits on storage. The host calls `reload()` when something may have changed
 * (for PostgreSQL: on every ChangeFeed event); `changeToken()` then moves and the gate re-reads.
 */
export class LiveCredentialSource {
  readonly #store: VaultStore
  readonly #onError: ((error: Error) => void) | undefined
  #snapshot: Snapshot
  #generation = 0
  #inFlight: Promise<void> | null = null
  #queued: Promise<void> | null = null
  readonly #retryMinMs: number
  readonly #retryMaxMs: number
  #retryDelay: number
  #retryTimer: NodeJS.Timeout | null = null
  #closed = false

  private constructor(store: VaultStore, snapshot: Snapshot, options: LiveCredentialSourceOptions) {
    this.#store = store
    this.#snapshot = snapshot
    this.#onError = options.onError
    this.#retryMinMs = options.retry?.minMs ?? 100
    this.#retryMaxMs = Math.max(options.retry?.maxMs ?? 1000, this.#retryMinMs)
    this.#retryDelay = this.#retryMinMs
  }

  /** Loads the first snapshot; rejects when that fails (there is nothing to serve yet). */
  static async open(
    store: VaultStore,
    options: LiveCredentialSourceOptions = {},
  ): Promise<LiveCredentialSource> {
    return new LiveCredentialSource(store, await read(store), options)
  }

  loadCredentials(): CredentialLoad {
    return this.#snapshot.load
  }

  loadAll(): Credential[] {
    return this.#snapshot.load.credentials
  }

  loadAgents(): AgentRecord[] {
    return this.#snapshot.agents
  }

  /** A local generation: moves after each reload that found the store changed. */
  changeToken(): string {
    return String(this.#generation)
  }

  /** The key is held by the store, which is open. */
  isSealed(): false {
    return false
  }

  /** Stops the retries of a failed reload; later `reload()` calls do nothing. Call before closing the store. */
  close(): void {
    this.#closed = true
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
  }

  /**
   * Re-reads the store. Reloads never overlap: a call while one runs is answered by one more
   * reload after it (however many calls came meanwhile), so a change committed during a reload is
   * never missed. Never rejects: a failure keeps the last snapshot, goes to `onError` and is
   * retried (see `retry`).
   */
  reload(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (this.#queued !== null) return this.#queued
    if (this.#inFlight !== null) {
      const queued = this.#inFlight.then(() => {
        this.#queued = null
        return this.#start()
      })
      this.#queued = queued
      return queued
    }
    return this.#start()
  }

  #start(): Promise<void> {
    const run: Promise<void> = this.#cycle().finally(() => {
      if (this.#inFlight === run) this.#inFlight = null
    })
    this.#inFlight = run
    return run
  }

  async #cycle(): Promise<void> {
    try {
      const next = await read(this.#store)
      const changed = next.storeToken !== this.#snapshot.storeToken
      this.#snapshot = next
      if (changed) this.#generation++
      this.#retryDelay = this.#retryMinMs
      if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
      this.#retryTimer = null
    } catch (err) {
      if (this.#closed) return
      this.#onError?.(asError(err))
      this.#scheduleRetry()
    }
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== null) return
    const delay = this.#retryDelay
    this.#retryDelay = Math.min(delay * 2, this.#retryMaxMs)
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null
      void this.reload()
    }, delay)
    this.#retryTimer.unref()
  }
}

/**
 * The store's token first, then the data: a change committed in between is in the data and
 * moves the token again, so the next reload picks it up rather than it being lost.
 */
async function read(store: VaultStore): Promise<Snapshot> {
  const storeToken = await store.changeToken()
  const [load, agents] = await Promise.all([store.loadCredentials(), store.loadAgents()])
  return { load, agents, storeToken }
}
