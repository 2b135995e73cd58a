/** `aegis doctor` on PostgreSQL: the server, the shared schema, and the active vault in it. */
import type { AegisConfig } from '@aegis/config'
import type { CredentialInfo } from '@aegis/vault'
import { type CheckResult, checkAgents, checkCredentials, vaultRowsCheck } from './doctor-checks.js'
import { pgFailure, pgSchemaStatuses, pgWhere } from './postgres.js'
import { openStorage, type Storage } from './storage.js'

const line = (name: string, status: CheckResult['status'], message: string): CheckResult => ({
  name,
  status,
  message,
})

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')
}

export interface PostgresChecks {
  /** The `postgres` lines (server, schema), shown next to the redis check. */
  server: CheckResult[]
  /** The active vault in the database (like the SQLite vault checks), empty when not reached. */
  vault: CheckResult[]
  /** The credentials that load (for the expiry check); null when the vault did not open. */
  credentials: CredentialInfo[] | null
}

/**
 * Without `storage.postgres.url`: one passing line saying the state is in SQLite files. With it:
 * the server answers (version, pool size), every package's schema is current (a line per set
 * that is not), and the active vault opens with the key and every credential and agent loads.
 */
export async function checkPostgres(
  config: AegisConfig,
  vault: { name: string; masterKey: string | undefined },
): Promise<PostgresChecks> {
  const url = config.storage.postgres.url
  const none: PostgresChecks = { server: [], vault: [], credentials: null }
  if (url === undefined) {
    return {
      ...none,
      server: [
        line(
          'postgres',
          'pass',
          'not configured: vaults, ledger and users are SQLite files in the data directory',
        ),
      ],
    }
  }
  const where = pgWhere(url)
  let storage: Storage
  try {
    storage = await openStorage(config, config.vault.data_dir, { checkSchema: false })
  } catch (error) {
    return { ...none, server: [line('postgres', 'fail', oneLine(pgFailure(error, url)))] }
  }
  try {
    const pool = storage.pool as NonNullable<Storage['pool']>
    const version = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]
      ?.server_version
    const server = [
      line(
        'postgres',
        'pass',
        `PostgreSQL ${version ?? '(version unknown)'} at ${where} answers; pool of ${config.storage.postgres.pool_max}, changes polled every ${config.storage.postgres.poll_interval_ms} ms besides LISTEN/NOTIFY`,
      ),
    ]
    const sets = await pgSchemaStatuses(pool)
    const lagging = sets.filter((s) => s.state !== 'current')
    if (lagging.length === 0) {
      server.push(
        line(
          'postgres schema',
          'pass',
          `current: ${sets.map((s) => `${s.set} ${s.applied}/${s.known}`).join(', ')}`,
        ),
      )
    } else {
      for (const s of lagging) {
        const fix =
          s.state === 'ahead'
            ? 'newer than this aegis: upgrade aegis (gates refuse to start)'
            : `${s.state}: run aegis storage migrate`
        server.push(
          line(`postgres schema ${s.set}`, 'fail', `${s.applied}/${s.known} migrations applied, ${fix}`),
        )
      }
      return { ...none, server }
    }
    return { server, ...(await checkPgVault(storage, vault)) }
  } catch (error) {
    return { ...none, server: [line('postgres', 'fail', oneLine(pgFailure(error, url)))] }
  } finally {
    await storage.close()
  }
}

async function checkPgVault(
  storage: Storage,
  vault: { name: string; masterKey: string | undefined },
): Promise<Omit<PostgresChecks, 'server'>> {
  if (!vault.masterKey)
    return { vault: [line('vault database', 'warn', 'not checked: no master key')], credentials: null }
  let store: Awaited<ReturnType<Storage['openVault']>>
  try {
    store = await storage.openVault(vault.name, vault.masterKey)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'invalid_master_key') {
      return {
        vault: [
          line('vault database', 'pass', `vault "${vault.name}" is in PostgreSQL`),
          line('key', 'fail', `${oneLine(error)}: the master key does not match vault "${vault.name}"`),
        ],
        credentials: null,
      }
    }
    const fix = code === 'no_vault' ? ` (aegis init, or aegis vault create --name ${vault.name})` : ''
    return { vault: [line('vault database', 'fail', `${oneLine(error)}${fix}`)], credentials: null }
  }
  try {
    const results = [line('vault database', 'pass', `vault "${vault.name}" opens in PostgreSQL`)]
    // As on SQLite: a table that is not the set Aegis last wrote is one line, not one per row.
    const changed = (await store.storedRows()).changed
    if (changed !== null) return { vault: [...results, vaultRowsCheck(vault.name, changed)], credentials: [] }
    const load = await store.loadCredentials()
    const total = load.credentials.length + load.unavailable.length
    results.push(
      load.unavailable.length === 0
        ? line('key', 'pass', `master key decrypts all ${total} credential(s)`)
        : line(
            'key',
            'pass',
            `master key matches vault "${vault.name}"; ${load.credentials.length} of ${total} credential(s) load`,
          ),
    )
    results.push(...checkCredentials(load), ...checkAgents(await store.loadAgents()))
    return { vault: results, credentials: load.credentials }
  } finally {
    await store.close()
  }
}
