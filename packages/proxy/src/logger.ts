/** One log method: pino's call shapes `(fields, message)` and `(message)`. */
export type LogFn = (fieldsOrMessage: object | string, message?: string) => void

/**
 * What the gate logs through: a pino logger fits as it is (the CLI and the MCP server pass one),
 * so does any object with these methods. The gate never logs a secret or a token through it.
 */
export interface Logger {
  error: LogFn
  warn: LogFn
  info: LogFn
  debug: LogFn
  child(bindings: Record<string, unknown>): Logger
  /** Optional (pino has it): lets the gate skip building a line nobody reads. */
  isLevelEnabled?(level: string): boolean
}

/** Which requests get a log line of their own (see `PipelineOptions.logRequests`). */
export type RequestLogging = 'off' | 'refused' | 'all'

const noop: LogFn = () => {}

/**
 * The default: says nothing. A library must not write to stdout on its own; in a stdio MCP host
 * one JSON line there corrupts the protocol stream.
 */
export const SILENT_LOGGER: Logger = {
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  child: () => SILENT_LOGGER,
  isLevelEnabled: () => false,
}

/** Whether `level` is read: true when the logger cannot say (it then filters by itself). */
export function logsAt(logger: Logger, level: string): boolean {
  return logger.isLevelEnabled?.(level) ?? true
}
