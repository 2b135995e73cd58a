import pg from 'pg'

export interface OpenPoolOptions {
  /** `postgres://user:password@host:port/database` (the host reads it from config or env). */
  url: string
  /** Connections at most. Default 10. */
  max?: number
  /** Shown in `pg_stat_activity`, so an operator can tell Aegis' connections apart. */
  applicationName?: string
  /** How long opening a connection may take. Default 5000 ms. */
  connectTimeoutMs?: number
  /** Called with an error an idle connection raised (the server restarted, the network dropped). */
  onError?: (error: Error) => void
}

/**
 * A `pg.Pool` with the settings every Aegis store expects. The pool's `error` event fires when an
 * idle connection breaks; unhandled, Node turns it into an exception that ends the process, so a
 * database restart would take every gate down with it. Here it is always handled: the broken
 * client leaves the pool and the next query opens a new one.
 */
export function openPool(options: OpenPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'aegis',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    // A peer that vanished without a FIN (a killed VM, a dropped NAT entry) is noticed by TCP
    // keepalive instead of hanging a query forever.
    keepAlive: true,
  })
  pool.on('error', (error) => options.onError?.(error))
  return pool
}
