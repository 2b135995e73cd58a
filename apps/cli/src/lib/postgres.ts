/**
 * The CLI's side of PostgreSQL: the pool of this process (from `storage.postgres`), the migration
 * sets of every package, and the one wording of a failure to reach or log in to the server.
 */
import { ACCESS_PG_MIGRATIONS } from '@aegis/access'
import type { AegisConfig } from '@aegis/config'
import { redactUrlPassword } from '@aegis/guard'
import { LEDGER_PG_MIGRATIONS } from '@aegis/ledger'
import {
  CORE_MIGRATIONS,
  type MigrationSet,
  openPool,
  SchemaError,
  type SchemaStatus,
  schemaStatus,
} from '@aegis/pg'
import { VAULT_PG_MIGRATIONS } from '@aegis/vault'
import { WEBHOOKS_PG_MIGRATIONS } from '@aegis/webhooks'
import type { Pool } from 'pg'
import { CliError } from './errors.js'

/** Every package's schema, in the order `aegis storage migrate` applies them (core comes first on its own). */
export const PG_MIGRATION_SETS: readonly MigrationSet[] = [
  VAULT_PG_MIGRATIONS,
  LEDGER_PG_MIGRATIONS,
  ACCESS_PG_MIGRATIONS,
  WEBHOOKS_PG_MIGRATIONS,
]

/** Where every set stands in the database behind `pool`, core first. */
export async function pgSchemaStatuses(pool: Pool): Promise<SchemaStatus[]> {
  const out: SchemaStatus[] = []
  for (const set of [CORE_MIGRATIONS, ...PG_MIGRATION_SETS]) out.push(await schemaStatus(pool, set))
  return out
}

/** The configured URL with its password masked, for every message that names the server. */
export function pgWhere(url: string): string {
  return redactUrlPassword(url)
}

/**
 * The pool of this process. Errors of idle connections (the server restarted) go to `onError`;
 * the pool replaces the connection on the next query.
 */
export function openConfiguredPool(
  config: AegisConfig,
  url: string,
  options: { applicationName?: string; onError?: (error: Error) => void } = {},
): Pool {
  return openPool({
    url,
    max: config.storage.postgres.pool_max,
    applicationName: options.applicationName ?? 'aegis',
    ...(options.onError !== undefined && { onError: options.onError }),
  })
}

// SQLSTATEs of a refused login (invalid_password, invalid_authorization_specification) and of a
// database that does not exist (invalid_catalog_name).
const AUTH_FAILED = new Set(['28P01', '28000'])
const NO_DATABASE = '3D000'
// pg looks for a password only when the server asks for one (SCRAM); with none in the URL (nor
// PGPASSWORD, nor ~/.pgpass) it throws this, with no code, and the operator read only "SASL: …".
const NO_PASSWORD = /client password must be a string/

function hostPort(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`
  } catch {
    return 'the configured server'
  }
}

/**
 * A one-line CliError for a failure to use the server at `url`: unreachable (host:port), login
 * refused, no such database, a schema this build cannot run against — never the password. Other
 * errors pass through unchanged.
 */
export function pgFailure(error: unknown, url: string): unknown {
  if (error instanceof CliError) return error
  const where = pgWhere(url)
  if (error instanceof SchemaError)
    return new CliError(`${error.message} (PostgreSQL at ${where})`, { cause: error })
  // drizzle wraps the driver's error ("Failed query: <sql>"); the driver's own is its cause.
  const cause = (error as { cause?: unknown }).cause
  const driver = (error as { code?: unknown }).code === undefined && cause instanceof Error ? cause : error
  const { code, message } = driver as { code?: unknown; message?: unknown }
  const text = typeof message === 'string' ? message.replaceAll(url, where) : String(error)
  if (NO_PASSWORD.test(text)) {
    return new CliError(
      `PostgreSQL at ${where} asks for a password and none was given: put it in the URL (AEGIS_PG_URL or storage.postgres.url, postgres://user:password@host:5432/database, percent-encoded)`,
      { cause: error },
    )
  }
  if (typeof code === 'string' && AUTH_FAILED.has(code)) {
    return new CliError(`PostgreSQL at ${where} refused the login: ${text}`, { cause: error })
  }
  if (code === NO_DATABASE) {
    return new CliError(`PostgreSQL at ${where}: ${text} (create it, then run aegis storage migrate)`, {
      cause: error,
    })
  }
  if (
    (typeof code === 'string' &&
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)$/.test(code)) ||
    /timeout|terminated|Connection terminated/i.test(text)
  ) {
    return new CliError(`PostgreSQL at ${hostPort(url)} does not answer (${where}): ${text}`, {
      cause: error,
    })
  }
  return error
}
