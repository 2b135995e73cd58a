/** Errors of one kind (a Redis or PostgreSQL outage reports one per reconnect attempt) logged at most this often. */
export const LOG_EVERY_MS = 10_000

interface WarnLogger {
  warn(obj: object, msg?: string): void
}

/**
 * `logger.warn(message)` for an error at most once per 10 s, with `fields` and the number of errors
 * left out since the last line.
 */
export function throttledWarn(
  logger: WarnLogger,
  message: string,
  fields: Record<string, unknown>,
): (error: Error) => void {
  let last = 0
  let suppressed = 0
  return (error) => {
    const now = Date.now()
    if (now - last < LOG_EVERY_MS) {
      suppressed++
      return
    }
    last = now
    logger.warn({ err: error.message, suppressed, ...fields }, message)
    suppressed = 0
  }
}
