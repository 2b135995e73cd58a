import { VaultError } from '../errors.js'

/** SQLSTATE of a node-postgres error, or '' for anything else (a network error, a bug). */
function sqlState(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : ''
  return /^[0-9A-Z]{5}$/.test(code) ? code : ''
}

/**
 * Maps an unexpected PostgreSQL or network error to a VaultError. Class 22 (data exception)
 * messages can quote the offending value, so they are never passed on; the others name
 * constraints, tables and hosts, never bound values.
 */
export function toPgVaultError(err: unknown): VaultError {
  if (err instanceof VaultError) return err
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
