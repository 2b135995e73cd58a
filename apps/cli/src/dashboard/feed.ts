/**
 * The live Request Feed: one ledger tail shared by every socket. Every 250 ms it reads the request
 * entries written since the last tick (ids ascending) and re-reads those still in flight, sending
 * each new entry and each one that completed as `{"type":"entry","entry":…}` (clients upsert by id).
 * A socket that cannot keep up (over 1 MiB buffered) is terminated, never buffered without bound;
 * one that misses a pong for a whole ping interval is terminated too.
 */
import type { Ledger, LedgerEntry } from '@aegis/ledger'
import type { WebSocket } from 'ws'
import type { DashboardLogger } from './deps.js'

export const TAIL_MS = 250
export const PING_MS = 30_000
export const MAX_BUFFERED = 1024 * 1024
export const MAX_SOCKETS = 64
// An entry with no completion after a minute is not re-read any more (its request is long gone).
const IN_FLIGHT_MS = 60_000
// Entries read per tick: a burst is sent over a few ticks instead of one huge read.
const PAGE = 500

interface Pending {
  id: number
  since: number
}

export class LedgerFeed {
  readonly #ledger: Ledger
  readonly #logger: DashboardLogger
  readonly #sockets = new Set<WebSocket>()
  readonly #alive = new WeakSet<WebSocket>()
  #lastId: number
  #inFlight: Pending[] = []
  #tail: NodeJS.Timeout | null = null
  #ping: NodeJS.Timeout | null = null

  constructor(ledger: Ledger, logger: DashboardLogger) {
    this.#ledger = ledger
    this.#logger = logger
    this.#lastId = this.#newestId()
  }

  #newestId(): number {
    return this.#ledger.query({ limit: 1, beforeId: Number.MAX_SAFE_INTEGER })[0]?.id ?? 0
  }

  get size(): number {
    return this.#sockets.size
  }

  start(): void {
    this.#tail ??= setInterval(() => this.#tick(), TAIL_MS)
    this.#ping ??= setInterval(() => this.#heartbeat(), PING_MS)
  }

  add(socket: WebSocket): void {
    this.#sockets.add(socket)
    this.#alive.add(socket)
    socket.on('pong', () => this.#alive.add(socket))
    // Nothing is expected from a client; a message is ignored, never parsed.
    socket.on('close', () => this.#sockets.delete(socket))
    socket.on('error', () => socket.terminate())
  }

  /** Stops the timers and closes every socket (1001 going away). */
  close(): void {
    if (this.#tail) clearInterval(this.#tail)
    if (this.#ping) clearInterval(this.#ping)
    this.#tail = this.#ping = null
    for (const socket of this.#sockets) socket.close(1001, 'dashboard stopping')
  }

  /** Closes sockets that did not answer the last ping, then pings the rest. */
  #heartbeat(): void {
    for (const socket of this.#sockets) {
      if (!this.#alive.has(socket)) {
        socket.terminate()
        continue
      }
      this.#alive.delete(socket)
      socket.ping()
    }
  }

  #tick(): void {
    let entries: LedgerEntry[]
    try {
      if (this.#sockets.size === 0) {
        // Nobody listens: skip ahead instead of reading rows nobody will be sent (one index probe).
        this.#lastId = this.#newestId()
        this.#inFlight = []
        return
      }
      entries = this.#read()
    } catch (error) {
      this.#logger.warn({ err: String(error) }, 'dashboard feed: ledger read failed')
      return
    }
    if (entries.length === 0) return
    for (const entry of entries) {
      const text = JSON.stringify({ type: 'entry', entry })
      for (const socket of this.#sockets) this.#send(socket, text)
    }
  }

  /** New entries, then those that completed since the last tick; remembers what is still in flight. */
  #read(): LedgerEntry[] {
    const now = Date.now()
    this.#inFlight = this.#inFlight.filter((p) => now - p.since < IN_FLIGHT_MS)
    const completed = this.#inFlight.length === 0 ? [] : this.#ledger.entries(this.#inFlight.map((p) => p.id))
    const done = new Set(completed.filter((e) => e.durationMs !== null).map((e) => e.id))
    this.#inFlight = this.#inFlight.filter((p) => !done.has(p.id))
    const fresh = this.#ledger.query({ afterId: this.#lastId, requests: true, order: 'asc', limit: PAGE })
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
