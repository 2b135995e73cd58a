import { constants } from 'node:os'
import { StopSignals } from '@aegis/proxy/internal'

/**
 * Runs a long-running command (`aegis gate`, `aegis dashboard`, `aegis mcp serve`) with SIGINT and
 * SIGTERM caught from its first line (`StopSignals`): `serve` starts it and awaits
 * `signals.started()`. A signal during the start is acknowledged through `say`; a second one ends
 * the process as the signal would have (128 + its number).
 */
export async function untilStopped(
  what: string,
  say: (line: string) => void,
  serve: (signals: StopSignals) => Promise<void>,
): Promise<void> {
  const signals = new StopSignals({
    source: process,
    early: (signal) => say(`${signal} received: ${what} stops once started (again to quit now)`),
    force: (signal) => process.exit(128 + (constants.signals[signal] ?? 0)),
  })
  try {
    await serve(signals)
  } finally {
    signals.dispose()
  }
}
