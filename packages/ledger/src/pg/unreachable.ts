/**
 * SQLSTATE classes that say the server could not take the statement, not that it refused what the
 * statement wrote: connection exception (08), transaction rollback (40: serialization, deadlock),
 * insufficient resources (53), operator intervention (57: shutdown, starting up, cancelled).
 */
const SERVER_CLASSES: ReadonlySet<string> = new Set(['08', '40', '53', '57'])

/**
 * node-postgres's own words for a connection that died, never came, or stopped answering (the
 * pool's read timeout: a dead network path) — these carry no code.
 */
const CONNECTION_LOST =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i

/**
 * Whether a batch failed because PostgreSQL was away (refused or dropped the connection, shut
 * down, starting up) — worth writing again once it is back — rather than because of its content.
 */
export function serverUnreachable(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | null)?.code
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code)) return SERVER_CLASSES.has(code.slice(0, 2))
    // A socket's error: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENOTFOUND, EPIPE, …
    return /^E[A-Z]+$/.test(code)
  }
  return cause instanceof Error && CONNECTION_LOST.test(cause.message)
}
