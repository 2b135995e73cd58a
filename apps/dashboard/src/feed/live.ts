import type { LedgerEntry } from '../api/types.js'
import { FEED_CAP } from './state.js'

export type LiveStatus = 'connecting' | 'live' | 'reconnecting'

/** The part of a browser WebSocket this client uses (tests pass a fake). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: unknown) => void) | null
  onerror: ((ev: unknown) => void) | null
  close(): void
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface LiveOptions {
  url: string
  /** The subprotocols offered at each (re)connect: they carry the session key (api.feedProtocols). */
  protocols?: () => string[]
  connect?: (url: string, protocols: string[]) => SocketLike
  /** Fetches and applies `after=<lastId>`; rejects when it could not (the socket is then retried). */
  catchUp: () => Promise<void>
  onEntries: (entries: LedgerEntry[]) => void
  onStatus: (status: LiveStatus) => void
  timers?: Timers
  /** Live messages are handed on in batches this often (one render per batch, not per message). */
  flushMs?: number
}

/** 1 s, 2 s, 4 s, 8 s, then 10 s: a restarted server is found quickly, a dead one is not hammered. */
export function backoffDelay(attempt: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, attempt))
}

/** The entry of a `{"type":"entry","entry":{...}}` message, or null for anything else. */
export function parseMessage(data: unknown): LedgerEntry | null {
  if (typeof data !== 'string') return null
  let message: unknown
  try {
    message = JSON.parse(data)
  } catch {
    return null
  }
  if (typeof message !== 'object' || message === null) return null
  const { type, entry } = message as { type?: unknown; entry?: unknown }
  if (type !== 'entry' || typeof entry !== 'object' || entry === null) return null
  const e = entry as Partial<LedgerEntry>
  if (!Number.isSafeInteger(e.id) || (e.id as number) <= 0) return null
  if (typeof e.time !== 'string' || typeof e.decision !== 'string') return null
  return entry as LedgerEntry
}

/** The `/ws` URL of the page's own origin. */
export function wsUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
}

/**
 * The live feed connection: connect, catch up from the last id, then pass messages on; on close,
 * reconnect with backoff. Messages that arrive during the catch-up wait for it (at most 2 × the
 * feed cap, oldest dropped: only the newest 500 can be shown).
 */
export class LiveFeed {
  private socket: SocketLike | null = null
  private attempt = 0
  private stopped = true
  private connected = false
  private catching = false
  private buffer: LedgerEntry[] = []
  private queue: LedgerEntry[] = []
  private reconnectTimer: unknown = null
  private flushTimer: unknown = null
  private readonly timers: Timers
  private readonly connectFn: (url: string, protocols: string[]) => SocketLike

  constructor(private readonly options: LiveOptions) {
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
    }
    this.connectFn =
      options.connect ?? ((url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike)
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.open()
  }

  stop(): void {
    this.stopped = true
    if (this.reconnectTimer !== null) this.timers.clearTimeout(this.reconnectTimer)
    if (this.flushTimer !== null) this.timers.clearTimeout(this.flushTimer)
    this.reconnectTimer = this.flushTimer = null
    this.queue = []
    this.buffer = []
    const socket = this.socket
    this.socket = null
    socket?.close()
  }

  private open(): void {
    this.reconnectTimer = null
    this.options.onStatus(this.connected ? 'reconnecting' : 'connecting')
    const socket = this.connectFn(this.options.url, this.options.protocols?.() ?? [])
    this.socket = socket
    this.catching = true
    this.buffer = []
    socket.onopen = () => {
      if (socket !== this.socket) return
      this.options.catchUp().then(
        () => {
          if (socket !== this.socket) return
          this.catching = false
          this.connected = true
          this.attempt = 0
          const buffered = this.buffer
          this.buffer = []
          if (buffered.length > 0) this.options.onEntries(buffered)
          this.options.onStatus('live')
        },
        () => {
          // The API refused or failed: try the whole connection again later.
          if (socket === this.socket) socket.close()
        },
      )
    }
    socket.onmessage = (ev) => {
      if (socket !== this.socket) return
      const entry = parseMessage(ev.data)
      if (!entry) return
      if (this.catching) {
        this.buffer.push(entry)
        if (this.buffer.length > 2 * FEED_CAP) this.buffer.shift()
        return
      }
      this.queue.push(entry)
      this.flushTimer ??= this.timers.setTimeout(() => this.flush(), this.options.flushMs ?? 100)
    }
    socket.onerror = () => {}
    socket.onclose = () => {
      if (socket !== this.socket || this.stopped) return
      this.socket = null
      this.connected = true // from now on a connect is a reconnect
      this.options.onStatus('reconnecting')
      this.reconnectTimer = this.timers.setTimeout(() => this.open(), backoffDelay(this.attempt++))
    }
  }

  private flush(): void {
    this.flushTimer = null
    const batch = this.queue
    this.queue = []
    if (batch.length > 0 && !this.stopped) this.options.onEntries(batch)
  }
}
