import { createSecureContext, rootCertificates } from 'node:tls'
import { buildConnector, Pool } from 'undici'
import { skipUnsolicitedContinue } from './informational.js'
import { resumeParserAtEnd } from './paused-end.js'
import type { DialTarget } from './resolve.js'

export interface DispatcherOptions {
  /** Extra PEM CA certificates trusted for upstream TLS, on top of the system roots. */
  ca?: ReadonlyArray<string | Buffer>
  connectTimeoutMs: number
  /** Connections per upstream address. */
  connections?: number
  /** Most pools kept; the least recently used one is closed beyond this. */
  maxPools?: number
}

/**
 * The largest response header block read from an upstream. undici's default is Node's 16 KiB (the
 * gate's own request limit, `gate.max_header_size`), but APIs send more than they accept: long
 * Set-Cookie and Link headers. Past this the answer is refused (`upstream_unreachable`, saying why).
 */
export const MAX_RESPONSE_HEADER_SIZE = 64 * 1024

/**
 * Keep-alive connection pools, one per (host, checked address). Each pool's connector dials the
 * address the resolver checked and never looks the name up again, while TLS (SNI and certificate
 * verification) and the Host header use the host name.
 */
export class PinnedDispatchers {
  readonly #pools = new Map<string, Pool>()
  readonly #options: DispatcherOptions
  readonly #connect: buildConnector.connector
  /** The key last used (the end of the LRU order), the target it was made for, and its pool. */
  #newest = ''
  #newestDial: DialTarget | null = null
  #newestPool: Pool | null = null

  constructor(options: DispatcherOptions) {
    this.#options = options
    // One secure context for every connection: building one parses every trusted root (~20 ms and
    // ~1 MiB), which must not happen per connection.
    const secureContext =
      options.ca === undefined || options.ca.length === 0
        ? undefined
        : createSecureContext({ ca: [...rootCertificates, ...options.ca] })
    this.#connect = buildConnector({
      secureContext,
      timeout: options.connectTimeoutMs,
      rejectUnauthorized: true,
    })
  }

  get(dial: DialTarget): Pool {
    // The usual case, one upstream called again and again: the newest pool, with no key to build.
    const last = this.#newestDial
    if (
      last !== null &&
      this.#newestPool !== null &&
      last.host === dial.host &&
      last.port === dial.port &&
      last.address === dial.address &&
      last.addressPort === dial.addressPort
    ) {
      return this.#newestPool
    }
    const key = `${dial.host}:${dial.port}@${dial.address}:${dial.addressPort}`
    let pool = this.#pools.get(key)
    if (pool !== undefined) {
      // Refresh its place in the LRU order (nothing to move when it is already the newest).
      if (key !== this.#newest) {
        this.#pools.delete(key)
        this.#pools.set(key, pool)
      }
      this.#remember(key, dial, pool)
      return pool
    }
    const connect = this.#connect
    pool = new Pool(`https://${dial.host}:${dial.port}`, {
      connections: this.#options.connections ?? 128,
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
      maxHeaderSize: MAX_RESPONSE_HEADER_SIZE,
      connect: (opts, callback) =>
        connect(
          { ...opts, hostname: dial.address, port: String(dial.addressPort), servername: dial.host },
          (...answer) => {
            // A failed connect is answered `(error)` alone: there is no socket to watch.
            if (answer[0] === null) resumeParserAtEnd(answer[1])
            callback(...answer)
            // undici made the connection's parser in that callback.
            if (answer[0] === null) skipUnsolicitedContinue(answer[1])
          },
        ),
    })
    this.#pools.set(key, pool)
    this.#remember(key, dial, pool)
    const max = this.#options.maxPools ?? 256
    if (this.#pools.size > max) {
      const oldest = this.#pools.keys().next().value
      if (oldest !== undefined) {
        void this.#pools.get(oldest)?.close()
        this.#pools.delete(oldest)
      }
    }
    return pool
  }

  #remember(key: string, dial: DialTarget, pool: Pool): void {
    this.#newest = key
    this.#newestDial = dial
    this.#newestPool = pool
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    this.#newest = ''
    this.#newestDial = null
    this.#newestPool = null
    await Promise.all(pools.map((p) => p.close().catch(() => p.destroy())))
  }
}
