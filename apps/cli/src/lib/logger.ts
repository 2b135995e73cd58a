import type { AegisConfig } from '@aegis/config'
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
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')
        process.stderr.write(
          `${new Date().toISOString()} ${label.toUpperCase().padEnd(5)} ${msg} ${fields}\n`,
        )
      },
    },
  )
}
