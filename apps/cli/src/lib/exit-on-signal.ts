import { constants } from 'node:os'

/** Ends the process as a signal would have: status 128 + its number (130 for SIGINT). */
export function exitOnSignal(signal: NodeJS.Signals): never {
  process.exit(128 + (constants.signals[signal] ?? 0))
}
