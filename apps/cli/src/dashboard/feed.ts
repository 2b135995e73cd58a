/**
 * The live Request Feed: one ledger tail shared by every socket. Every 250 ms it reads the request
 * entries written since the last tick (ids ascending) and re-reads those still in flight, sending
 * each new entry and each one that completed as `{"type":"entry","entry":…}` (clients upsert by id).
 * Reads are async (PostgreSQL or SQLite) and never overlap: a tick still reading skips the next.
 * A socket that cannot keep up (over 1 MiB buffered) is terminated, never buffered without bound;
 * one that misses a pong for a whole ping interval is terminated too.
 *
 * A socket carries the session that opened it, and that session is asked again before every batch
 * and at every ping (once per session, however many sockets it holds): a socket whose session was
 * logged out or expired, or whose user was removed, re-tokened or lost ledger:read since the
 * upgrade, is closed (1008) and sent nothing more. A failed check closes it too. A socket is also
 * checked at the moment its session's lifetime ends, so a quiet feed does not outlive its session.
 */
import type { LedgerEntry, LedgerStore } from '@aegis/ledger'
import type { WebSocket } from 'ws'
import type { DashboardLogger } from './deps.js'
import type { SessionProof } from './session.js'

export const TAIL_MS = 250
export const PING_MS = 30_000
export const MAX_BUFFERED = 1024 * 1024
export const MAX_SOCKETS = 64
/** The close code of a socket whose session no longer authorizes the feed (policy violation). */
export const SESSION_ENDED = 1008
// An entry with no completion after a minute is not re-read any more (its request is long gone).
const IN_FLIGHT_MS = 60_000
// Entries read per tick: a burst is sent over a few ticks instead of one huge read.
const PAGE = 500

/** Whether the session `proof` opens may still read the feed (false, or a rejection: it may not). */
export type FeedAuthorizer = (proof: SessionProof) => Promise<boolean>

interface Pending {
  id: number
  since: number
}

export class LedgerFeed {
  readonly #ledger: LedgerStore
  readonly #logger: DashboardLogger
  readonly #authorize: FeedAuthorizer
  /** Each open socket and the proof of the session that opened it (cookie id and key). */
  readonly #sockets = new Map<WebSocket, SessionProof>()
  readonly #alive = new WeakSet<WebSocket>()
  /** Undefined until the first tick read the newest id: entries older than the start are not sent. */
  #lastId: number | undefined
  #inFlight: Pending[] = []
  #tail: NodeJS.Timeout | null = null
  #ping: NodeJS.Timeout | null = null
  #reading = false
  #closed = false

  constructor(ledger: LedgerStore, logger: DashboardLogger, authorize: FeedAuthorizer) {
    this.#ledger = ledger
    this.#logger = logger
    this.#authorize = authorize
  }

  async #newestId(): Promise<number> {
    return (await this.#ledger.query({ limit: 1, beforeId: Number.MAX_SAFE_INTEGER }))[0]?.id ?? 0
  }

  get size(): number {
    return this.#sockets.size
  }

  start(): void {
    if (this.#tail === null) void this.#tick()
    this.#tail ??= setInterval(() => void this.#tick(), TAIL_MS)
    this.#ping ??= setInterval(() => this.#heartbeat(), PING_MS)
  }

  /**
   * A socket opened by the session `proof` opens (already authorized for the upgrade); `endsAt`
   * (epoch ms) is when that session ends at the latest: the sessions are asked again then.
   */
  add(socket: WebSocket, proof: SessionProof, endsAt: number | null = null): void {
    this.#sockets.set(socket, proof)
    this.#alive.add(socket)
    socket.on('pong', () => this.#alive.add(socket))
    // Nothing is expected from a client; a message is ignored, never parsed.
    const expiry =
      endsAt === null
        ? null
        : setTimeout(() => void this.#closeUnauthorized(), Math.max(0, endsAt - Date.now()) + 1)
    expiry?.unref()
    socket.on('close', () => {
      if (expiry !== null) clearTimeout(expiry)
      this.#sockets.delete(socket)
    })
    socket.on('error', () => socket.terminate())
  }

  /** Stops the timers and closes every socket (1001 going away). */
  close(): void {
    this.#closed = true
    if (this.#tail) clearInterval(this.#tail)
    if (this.#ping) clearInterval(this.#ping)
    this.#tail = this.#ping = null
    for (const socket of this.#sockets.keys()) socket.close(1001, 'dashboard stopping')
  }

  /** Closes sockets that did not answer the last ping, then pings the rest. */
  #heartbeat(): void {
    void this.#closeUnauthorized()
    for (const socket of this.#sockets.keys()) {
      if (!this.#alive.has(socket)) {
        socket.terminate()
        continue
      }
      this.#alive.delete(socket)
      socket.ping()
    }
  }

  async #tick(): Promise<void> {
    if (this.#reading) return
    this.#reading = true
    let entries: LedgerEntry[]
    try {
      if (this.#lastId === undefined || this.#sockets.size === 0) {
        // Nobody listens: skip ahead instead of reading rows nobody will be sent (one index probe).
        this.#lastId = await this.#newestId()
        this.#inFlight = []
        return
      }
      entries = await this.#read(this.#lastId)
      if (entries.length > 0) await this.#closeUnauthorized()
    } catch (error) {
      // A read cut short by close() (the ledger closes after the feed) is no failure.
      if (!this.#closed) this.#logger.warn({ err: String(error) }, 'dashboard feed: ledger read failed')
      return
    } finally {
      this.#reading = false
    }
    if (entries.length === 0 || this.#closed) return
    for (const entry of entries) {
      const text = JSON.stringify({ type: 'entry', entry })
      for (const socket of this.#sockets.keys()) this.#send(socket, text)
    }
  }

  /** Asks every session holding a socket again (once each); closes the sockets of those refused. */
  async #closeUnauthorized(): Promise<void> {
    const verdicts = new Map<string, Promise<boolean>>()
    const checks = [...this.#sockets].map(async ([socket, proof]) => {
      // Id and key: one check per session (the key is one of the session's, or the check refuses it).
      const asked = `${proof.id} ${proof.key}`
      let verdict = verdicts.get(asked)
      if (verdict === undefined) {
        verdict = this.#authorize(proof).catch(() => false)
        verdicts.set(asked, verdict)
      }
      if (await verdict) return
      this.#sockets.delete(socket)
      socket.close(SESSION_ENDED, 'session ended')
    })
    await Promise.all(checks)
  }

  /** New entries, then those that completed since the last tick; remembers what is still in flight. */
  async #read(lastId: number): Promise<LedgerEntry[]> {
    const now = Date.now()
    this.#inFlight = this.#inFlight.filter((p) => now - p.since < IN_FLIGHT_MS)
    const completed =
      this.#inFlight.length === 0 ? [] : await this.#ledger.entries(this.#inFlight.map((p) => p.id))
    const done = new Set(completed.filter((e) => e.durationMs !== null).map((e) => e.id))
    this.#inFlight = this.#inFlight.filter((p) => !done.has(p.id))
    const fresh = await this.#ledger.query({ afterId: lastId, requests: true, order: 'asc', limit: PAGE })
    // System entries are skipped by the query; the next tick starts after the newest id seen.
    const newest = fresh.at(-1)?.id
    if (newest !== undefined) this.#lastId = newest
    for (const entry of fresh)
      if (entry.durationMs === null) this.#inFlight.push({ id: entry.id, since: now })
    return [...completed.filter((e) => done.has(e.id)), ...fresh]
  }

  #send(socket: WebSocket, text: string): void {
    if (socket.readyState !== socket.OPEN) return
    if (socket.bufferedAmount > MAX_BUFFERED) {
      this.#logger.warn({ buffered: socket.bufferedAmount }, 'dashboard feed: slow client dropped')
      socket.terminate()
      return
    }
    socket.send(text)
  }
}
