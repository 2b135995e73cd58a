import { type LedgerStore, parseSince } from '@aegis/ledger'
import { CliError } from './errors.js'
import type { Storage } from './storage.js'

// Its own module, so that opening storage does not load the ledger package.
export { ledgerPath } from './ledger-path.js'

/** Opens the engine's ledger for reading or writing; closes it after `fn` whatever happens. */
export async function withLedger<R>(
  storage: Storage,
  fn: (ledger: LedgerStore) => R | Promise<R>,
): Promise<R> {
  const ledger = await storage.openLedger()
  try {
    return await fn(ledger)
  } finally {
    await ledger.close()
  }
}

/** `--since` as a Date, or a one-line error naming the flag. */
export function sinceFlag(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  try {
    return parseSince(text)
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : `Invalid --since value "${text}"`)
  }
}
