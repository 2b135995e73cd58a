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
  /**
   * Longest a statement may run, server-side. Default 10 000 ms. A write stuck behind a lock
   * fails instead of holding the request that waits for it (the gate then refuses it: nothing is
   * forwarded unaudited, and nothing hangs).
   */
  statementTimeoutMs?: number
  /** Called with an error an idle connection raised (the server restarted, the network dropped). */
  onError?: (error: Error) => void
}

/**
 * A `pg.Pool` with the settings every Aegis store expects. A connection that breaks (the server
 * restarted, an admin terminated it) raises an `error` event; unhandled, Node turns it into an
 * exception that ends the process, so a database restart would take every gate down with it. Here
 * it is always handled, idle or checked out: the broken client leaves the pool and the next query
 * opens a new one.
 */
export function openPool(options: OpenPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'aegis',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    // A peer that vanished without a FIN (a killed VM, a dropped NAT entry) is noticed by TCP
    // keepalive instead of hanging a query forever.
    keepAlive: true,
  })
  pool.on('error', (error) => options.onError?.(error))
  // The pool listens only while a client is idle. A client checked out (inside a transaction, a
  // LISTEN, a long query) whose connection dies emits 'error' on itself, and with no listener
  // that also ends the process. Every client gets one for its whole life: the query in flight
  // rejects, the client is not queryable any more, and the pool discards it on release.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.onError?.(error))
  })
  return pool
}
