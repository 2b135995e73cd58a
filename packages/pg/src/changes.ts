import pg from 'pg'

/** The channel `aegis.bump_version()` notifies. */
export const CHANGES_CHANNEL = 'aegis_changes'

/**
 * `change`: one committed change to a topic ('vault', 'agents', 'users', 'webhooks').
 * `reload`: events may have been missed — after the first connect, every reconnect, or when the
 * polling safety net saw a version no notification announced. Reload everything.
 */
export type ChangeEvent =
  | { kind: 'change'; topic: string; version: string }
  | { kind: 'reload'; reason: 'connect' | 'reconnect' | 'poll' }

export interface ChangeFeedOptions {
  /** The database to listen on; the feed opens its own connection (LISTEN needs one of its own). */
  url: string
  /** How often `aegis_versions` is compared with what was announced. Default 5000 ms. */
  pollIntervalMs?: number
  /**
   * Reconnect delays double from `minBackoffMs` (default 100) up to `maxBackoffMs` (default
   * `MAX_RECONNECT_DELAY_MS`, 1000): a server back after an outage is listened to again, and the
   * caches reloaded, within about a second — a revocation made just then must not wait longer.
   */
  minBackoffMs?: number
  maxBackoffMs?: number
  onEvent(event: ChangeEvent): void
  /** A lost connection or a failed poll; the feed keeps trying. The host decides what to log. */
  onError?(error: Error): void
}

/**
 * The longest wait between two reconnect attempts by default. Changes reach a gate within a second
 * (the README's promise); a longer wait would let a gate serve a revocation made right after an
 * outage for as long as it waits. One attempt a second per gate costs a down server nothing.
 */
const MAX_RECONNECT_DELAY_MS = 1000

/** How long a listener suspected dead (a change it did not announce) has to answer `SELECT 1`. */
const PROBE_TIMEOUT_MS = 2000

type Versions = Map<string, bigint>

interface Notice {
  topic: string
  version: string
}

/** How long a connection being let go may take to say goodbye before its socket is destroyed. */
const END_TIMEOUT_MS = 1000

/**
 * Ends a client, politely when the server answers: a connection behind a dead network path would
 * keep `end()` (and so a gate's shutdown, or the next reconnect) waiting for ever.
 */
async function endWithin(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, END_TIMEOUT_MS)
  })
  await Promise.race([client.end().catch(() => {}), gaveUp])
  clearTimeout(timer)
  // Gone already after a polite end; otherwise nothing else will ever close it.
  ;(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
}

function parseNotice(payload: string | undefined): Notice | null {
  try {
    const value = JSON.parse(payload ?? '') as Partial<Notice>
    if (typeof value.topic === 'string' && typeof value.version === 'string' && /^\d+$/.test(value.version)) {
      return { topic: value.topic, version: value.version }
    }
  } catch {
    // A foreign NOTIFY on our channel: ignored, the poll still catches real changes.
  }
  return null
}

/**
 * Turns PostgreSQL notifications into change events for a gate's caches. NOTIFY has no replay: a
 * listener that was disconnected missed whatever happened meanwhile. So the feed asks for a full
 * reload on every (re)connect, and also compares `aegis_versions` with what it was told every
 * `pollIntervalMs` — a notification lost any other way (a listener stuck behind a dead TCP
 * connection) costs at most one poll interval. A poll that finds such a loss asks the listener to
 * answer; one that does not within `PROBE_TIMEOUT_MS` (or the poll interval) is dropped and
 * replaced, so a dead connection does not make every later change wait for a poll too.
 */
export class ChangeFeed {
  readonly #pool: pg.Pool
  readonly #options: ChangeFeedOptions
  #client: pg.Client | null = null
  #connected = false
  #everConnected = false
  #closed = false
  #backoff: number
  #reconnectTimer: NodeJS.Timeout | null = null
  #pollTimer: NodeJS.Timeout | null = null
  #polling = false
  /** The newest version of each topic this feed announced (by notification or reload). */
  #seen: Versions = new Map()

  /** `pool` serves the safety-net poll; the LISTEN connection is separate. */
  constructor(pool: pg.Pool, options: ChangeFeedOptions) {
    this.#pool = pool
    this.#options = options
    this.#backoff = options.minBackoffMs ?? 100
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.#connected
  }

  /**
   * Connects and LISTENs; resolves once that worked (and the `connect` reload was emitted), and
   * rejects when the first attempt fails. Later losses reconnect by themselves.
   */
  async start(): Promise<void> {
    await this.#connect()
    const every = this.#options.pollIntervalMs ?? 5000
    this.#pollTimer = setInterval(() => void this.#poll(), every)
    this.#pollTimer.unref()
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#pollTimer) clearInterval(this.#pollTimer)
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    const client = this.#client
    this.#client = null
    this.#connected = false
    if (client) await endWithin(client)
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: 'aegis-changes',
      keepAlive: true,
      connectionTimeoutMillis: 5000,
      // LISTEN and the versions read must not wait for ever on a connection that died meanwhile.
      query_timeout: 5000,
    })
    // Listeners first: an error between connect() and LISTEN must not become an uncaught event.
    client.on('error', (error) => this.#lost(client, error))
    client.on('end', () => this.#lost(client, new Error('the change feed connection closed')))
    client.on('notification', (message) => {
      if (message.channel === CHANGES_CHANNEL) this.#notified(parseNotice(message.payload))
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANGES_CHANNEL}`)
      // Read the versions only after LISTEN: a change committed in between is then both in the
      // versions and in a notification, never in neither.
      const versions = await this.#readVersions(client)
      if (this.#closed) {
        await endWithin(client)
        return
      }
      this.#client = client
      this.#connected = true
      this.#backoff = this.#options.minBackoffMs ?? 100
      this.#seen = versions
      const reason = this.#everConnected ? 'reconnect' : 'connect'
      this.#everConnected = true
      this.#options.onEvent({ kind: 'reload', reason })
    } catch (error) {
      client.removeAllListeners('end')
      await endWithin(client)
      throw error
    }
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#client !== client) return
    this.#client = null
    this.#connected = false
    client.removeAllListeners('end')
    void endWithin(client)
    if (this.#closed) return
    this.#options.onError?.(error)
    this.#scheduleReconnect()
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer) return
    const delay = this.#backoff
    this.#backoff = Math.min(this.#backoff * 2, this.#options.maxBackoffMs ?? MAX_RECONNECT_DELAY_MS)
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null
      this.#connect().catch((error: Error) => {
        if (this.#closed) return
        this.#options.onError?.(error)
        this.#scheduleReconnect()
      })
    }, delay)
    this.#reconnectTimer.unref()
  }

  #notified(notice: Notice | null): void {
    if (notice === null || this.#closed) return
    const version = BigInt(notice.version)
    const seen = this.#seen.get(notice.topic)
    if (seen === undefined || version > seen) this.#seen.set(notice.topic, version)
    this.#options.onEvent({ kind: 'change', topic: notice.topic, version: notice.version })
  }

  /**
   * A change reached the database but not this listener: either its notification is still on the
   * way, or the connection is dead without having said so (no RST through a broken network path,
   * and TCP keepalive takes hours). A live connection answers at once; a dead one is dropped
   * (`endWithin`) and reconnected.
   */
  async #probe(client: pg.Client): Promise<void> {
    const limit = Math.min(PROBE_TIMEOUT_MS, this.#options.pollIntervalMs ?? 5000)
    let timer: NodeJS.Timeout | undefined
    const silent = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), limit)
    })
    const answered = await Promise.race([
      client.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      silent,
    ])
    clearTimeout(timer)
    if (answered || this.#client !== client || this.#closed) return
    this.#lost(client, new Error(`the change feed connection did not answer within ${limit} ms`))
  }

  async #readVersions(db: pg.Pool | pg.Client): Promise<Versions> {
    const result = await db.query<{ topic: string; version: string }>(
      'SELECT topic, version::text AS version FROM aegis.aegis_versions',
    )
    return new Map(result.rows.map((r) => [r.topic, BigInt(r.version)]))
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#closed) return
    this.#polling = true
    try {
      const versions = await this.#readVersions(this.#pool)
      let missed = false
      for (const [topic, version] of versions) {
        const seen = this.#seen.get(topic)
        if (seen === undefined || version > seen) missed = true
      }
      if (missed && !this.#closed) {
        // Keep the larger of the two: a notification may have overtaken this read.
        for (const [topic, version] of versions) {
          const seen = this.#seen.get(topic)
          if (seen === undefined || version > seen) this.#seen.set(topic, version)
        }
        this.#options.onEvent({ kind: 'reload', reason: 'poll' })
        if (this.#client !== null) void this.#probe(this.#client)
      }
    } catch (error) {
      if (!this.#closed) this.#options.onError?.(error as Error)
    } finally {
      this.#polling = false
    }
  }
}
