import type { AegisConfig } from '@aegis/config'
import { escapeUnprintable } from '@aegis/guard'
import pino, { type Logger } from 'pino'

/**
 * The gate's logger: structured JSON on stderr (stdout is kept for the one "listening on" line
 * scripts wait for), or a one-line-per-event text form with `log_format: pretty`. Loggers are only
 * ever handed ids, codes, services and paths; secrets and tokens never reach them.
 */
export function createLogger(config: AegisConfig): Logger {
  const { log_level: level, log_format: format } = config.observability
  if (format === 'json')
    return pino({ level, base: { app: 'aegis' } }, pino.destination({ fd: 2, sync: false }))
  return pino(
    { level, base: undefined, timestamp: false },
    {
      write(line: string) {
        const { level: n, msg, ...rest } = JSON.parse(line) as Record<string, unknown>
        const label = pino.levels.labels[Number(n)] ?? 'info'
        const fields = Object.entries(rest)
          .map(([k, v]) => `${k}=${prettyValue(v)}`)
          .join(' ')
        process.stderr.write(
          `${new Date().toISOString()} ${label.toUpperCase().padEnd(5)} ${escapeUnprintable(String(msg))} ${fields}\n`,
        )
      },
    },
  )
}

/** A value that reads as one `key=value` field whatever it holds: no space, quote, `=` or backslash. */
const BARE = /^[^\s"=\\]+$/

/**
 * A field's value in the pretty form: bare when it cannot be mistaken for more fields, else quoted
 * (JSON) — a path the agent chose, `/x status=200 code=ok`, must not forge fields of the line —
 * and never a character that could forge or hide text in a terminal.
 */
function prettyValue(value: unknown): string {
  const text = typeof value === 'string' && BARE.test(value) ? value : JSON.stringify(value)
  return escapeUnprintable(text ?? String(value))
}
