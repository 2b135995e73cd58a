import { type ParsedShare, parseShare } from './envelope.js'
import type { CustodyRecord } from './record.js'
import { acceptShare, rebuildKey } from './shares.js'

/**
 * The shares a sealed source has been given so far, towards its custody threshold: checked one at
 * a time, a repeated share counted once, and forgotten `timeoutMs` after the first one. Shared by
 * the SQLite and the PostgreSQL gate's sealable sources.
 */
export class PendingShares {
  readonly #timeoutMs: number
  #pending: ParsedShare[] = []
  #since = 0
  /** Shares are taken one at a time: combining awaits, and two calls must not both rebuild. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs
  }

  /** Shares held now (expired ones forgotten first). */
  get count(): number {
    this.#expire()
    return this.#pending.length
  }

  /** Runs `fn` after every earlier call has finished. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn)
    this.#queue = run.catch(() => undefined)
    return run
  }

  /**
   * Adds one share: null while fewer than the threshold are held; at the threshold the rebuilt key
   * (proven against the key check; the caller zeroes it) and the shares are forgotten. Call it
   * inside `serial`.
   */
  async offer(text: string, custody: CustodyRecord): Promise<Buffer | null> {
    this.#expire()
    if (this.#holds(text)) return null
    const share = acceptShare(text, this.#pending.length + 1, this.#pending, custody)
    if (this.#pending.length === 0) this.#since = Date.now()
    this.#pending.push(share)
    if (this.#pending.length < custody.threshold) return null
    const shares = this.#take()
    try {
      return await rebuildKey(shares, custody)
    } finally {
      for (const s of shares) s.bytes.fill(0)
    }
  }

  /** Forgets (and zeroes) the shares held. */
  clear(): void {
    for (const s of this.#take()) s.bytes.fill(0)
  }

  /**
   * Whether this exact share is already among those given so far. Giving it again changes nothing
   * (as in HashiCorp Vault): a holder who repeats theirs, or an operator who sends a whole set while
   * others' shares are pending, is not refused for a share the gate already counts.
   */
  #holds(text: string): boolean {
    if (this.#pending.length === 0) return false
    const share = parseShare(text, this.#pending.length + 1)
    const held = this.#pending.some(
      (s) => s.setId === share.setId && Buffer.from(s.bytes).equals(Buffer.from(share.bytes)),
    )
    share.bytes.fill(0)
    return held
  }

  #take(): ParsedShare[] {
    const pending = this.#pending
    this.#pending = []
    return pending
  }

  #expire(): void {
    if (this.#pending.length > 0 && Date.now() - this.#since > this.#timeoutMs) this.clear()
  }
}
