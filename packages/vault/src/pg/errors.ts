import { VaultError } from '../errors.js'

/** SQLSTATE of a node-postgres error, or '' for anything else (a network error, a bug). */
function sqlState(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : ''
  return /^[0-9A-Z]{5}$/.test(code) ? code : ''
}

/**
 * The driver's error under drizzle's wrapper: drizzle's own message quotes the SQL and its
 * parameters (which may be sealed bytes or names), so only the cause is ever reported.
 */
function driverError(err: unknown): unknown {
  let current = err
  for (let depth = 0; depth < 4; depth++) {
    if (!(current instanceof Error) || current.cause === undefined || sqlState(current) !== '') break
    current = current.cause
  }
  return current
}

/**
 * Maps an unexpected PostgreSQL or network error to a VaultError. Class 22 (data exception)
 * messages can quote the offending value, so they are never passed on; the others name
 * constraints, tables and hosts, never bound values.
 */
export function toPgVaultError(thrown: unknown): VaultError {
  if (thrown instanceof VaultError) return thrown
  const err = driverError(thrown)
  const state = sqlState(err)
  // Unique violations the in-transaction checks did not see (they run under the vault row lock,
  // so this is a row written outside of Aegis): still the caller's `duplicate`.
  if (state === '23505')
    return new VaultError('duplicate', 'The name or service is already taken in this vault')
  if (state === '42P01' || state === '3F000') {
    return new VaultError('io', 'PostgreSQL has no vault tables: run `aegis storage migrate`')
  }
  const message = err instanceof Error ? err.message.split('\n')[0] : 'unknown error'
  if (state.startsWith('22'))
    return new VaultError('io', `Vault storage error on PostgreSQL (SQLSTATE ${state})`)
  return new VaultError(
    'io',
    `Vault storage error on PostgreSQL: ${message}${state ? ` (SQLSTATE ${state})` : ''}`,
  )
}
