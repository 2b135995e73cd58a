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

/** How much longer than `statement_timeout` the client waits for an answer before giving up. */
const READ_TIMEOUT_MARGIN_MS = 1000

/**
 * A `pg.Pool` with the settings every Aegis store expects. A connection that breaks (the server
 * restarted, an admin terminated it) raises an `error` event; unhandled, Node turns it into an
 * exception that ends the process, so a database restart would take every gate down with it. Here
 * it is always handled, idle or checked out: the broken client leaves the pool and the next query
 * opens a new one.
 */
export function openPool(options: OpenPoolOptions): pg.Pool {
  const statementTimeout = options.statementTimeoutMs ?? 10_000
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'aegis',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeout,
    // The server ends a statement at `statement_timeout`, but only a server that can still answer:
    // behind a dead network path (a killed VM, a dropped NAT entry, no RST ever) the answer never
    // comes, and TCP keepalive notices only after hours. So the client gives up a little after the
    // server would have: a ledger write then fails (the request is refused, ledger_unavailable)
    // instead of holding every request, and a reload fails and is retried instead of stopping
    // all later reloads. A pool query that timed out discards its connection.
    ...(statementTimeout > 0 && { query_timeout: statementTimeout + READ_TIMEOUT_MARGIN_MS }),
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

/**
 * Lifts the client-side read timeout of one checked-out connection, for a session that lifts
 * `statement_timeout` too (a migration may rewrite a large table, or wait for another host's
 * migration lock); returns how to put it back before the connection returns to the pool.
 */
export function liftReadTimeout(client: pg.PoolClient): () => void {
  const params = (client as unknown as { connectionParameters?: { query_timeout?: number } })
    .connectionParameters
  if (params === undefined) return () => {}
  const before = params.query_timeout
  params.query_timeout = undefined
  return () => {
    params.query_timeout = before
  }
}
