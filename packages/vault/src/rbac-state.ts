import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { eq } from 'drizzle-orm'
import { VaultCipher } from './cipher.js'
import type { Connection } from './db.js'
import { VaultError } from './errors.js'
import { vaultFileName } from './files.js'
import { cachedVaultKey } from './keycache.js'
import { meta } from './schema.js'

// "RBAC is on for this install" (its first user was added), kept where editing access.db cannot
// reach it: sealed in each vault's state (the key check: only the master key writes it, and a
// vault cannot be opened without it), plus a plaintext hint in `meta.rbac_since` for the commands
// that run without the key. The hint is advisory one way only: its presence means "on" (forging
// it gains nothing); its absence proves nothing without the sealed state.

/** The meta key of the plaintext hint. */
const HINT_KEY = 'rbac_since'

function storedCheck(conn: Connection): Buffer {
  const row = conn.db.select().from(meta).where(eq(meta.key, 'key_check')).get()
  return Buffer.from(row?.value ?? '', 'base64')
}

/** When RBAC was turned on, as the vault's sealed state says (null: never); throws `corrupt`. */
export function sealedRbacSince(conn: Connection, cipher: VaultCipher): string | null {
  return cipher.openState(storedCheck(conn)).rbacSince
}

/**
 * Records in the sealed state (and the hint) that RBAC is on since `since`, unless it already
 * says so (the first date stays). Runs inside the caller's write transaction.
 */
export function recordRbacOn(conn: Connection, cipher: VaultCipher, since: string): void {
  const state = cipher.openState(storedCheck(conn))
  const at = state.rbacSince ?? since
  if (state.rbacSince === null) {
    if (state.rows === null) throw new VaultError('corrupt', 'The sealed state of this vault has no row sets')
    const check = cipher.sealState({ rows: state.rows, rbacSince: at }).toString('base64')
    conn.db.update(meta).set({ value: check }).where(eq(meta.key, 'key_check')).run()
  }
  conn.db
    .insert(meta)
    .values({ key: HINT_KEY, value: at })
    .onConflictDoUpdate({ target: meta.key, set: { value: at } })
    .run()
}

/**
 * The meta table of a vault file, read without leaving anything behind: from a copy of the file in
 * memory (a read-only open of a WAL database creates `-wal`/`-shm`, and a refused command must not
 * change the data directory), or — when a non-empty `-wal` holds commits the file does not have
 * yet (a process has it open) — from a read-only open. Null when it cannot be read.
 */
function readMetaQuietly(file: string): Map<string, string> | null {
  let db: Database.Database | undefined
  try {
    const walBytes = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0
    db = walBytes > 0 ? new Database(file, { readonly: true, fileMustExist: true }) : inMemoryCopy(file)
    const rows = db.prepare('SELECT key, value FROM meta').all() as Array<{ key: unknown; value: unknown }>
    return new Map(
      rows.flatMap((r) =>
        typeof r.key === 'string' && typeof r.value === 'string' ? [[r.key, r.value]] : [],
      ),
    )
  } catch {
    return null
  } finally {
    db?.close()
  }
}

/**
 * A read-only in-memory copy of a database file. SQLite cannot open a copy that says WAL (header
 * bytes 18-19 = 2) from memory, so the copy says rollback journal (1): the pages are the same.
 */
function inMemoryCopy(file: string): Database.Database {
  const bytes = readFileSync(file)
  if (bytes.length >= 20) {
    bytes[18] = 1
    bytes[19] = 1
  }
  return new Database(bytes, { readonly: true })
}

/** The plaintext hint of any vault file under `<dataDir>/vaults`, read without the key (see `rbacHint`). */
export function rbacHint(dataDir: string): string | null {
  let files: string[]
  try {
    files = readdirSync(join(dataDir, 'vaults')).filter((f) => f.endsWith('.db'))
  } catch {
    return null
  }
  for (const file of files.sort()) {
    const hint = readMetaQuietly(join(dataDir, 'vaults', file))?.get(HINT_KEY)
    if (hint !== undefined) return hint
  }
  return null
}

/**
 * When RBAC was turned on, as vault `name`'s sealed state says, read without opening the vault for
 * writing (no migration, no file left behind): null when it never was, and when it cannot tell (no
 * such file, a format-1 vault, a key that does not open the state).
 */
export function sealedRbacHint(opts: { dataDir: string; name: string; masterKey: string }): string | null {
  const m = readMetaQuietly(join(opts.dataDir, vaultFileName(opts.name)))
  const salt = m?.get('salt')
  const iterations = Number(m?.get('kdf_iterations'))
  const check = m?.get('key_check')
  if (salt === undefined || check === undefined || !Number.isSafeInteger(iterations)) return null
  try {
    const key = cachedVaultKey(opts.masterKey, Buffer.from(salt, 'hex'), iterations)
    return new VaultCipher(opts.name, key).openState(Buffer.from(check, 'base64')).rbacSince
  } catch {
    return null
  }
}

/**
 * Whether RBAC was turned on for `dataDir`, for a host's bootstrap check (access `guardBootstrap`):
 * the key-less hint first (a file read, no key derivation), then `sealed` — the sealed state of a
 * vault the host already opened with its key. A sealed state that cannot be read counts as "on"
 * (fail closed). Null only when neither says so.
 */
export function rbacRecord(dataDir: string, sealed?: () => string | null): () => string | null {
  return () => {
    const hint = rbacHint(dataDir)
    if (hint !== null || sealed === undefined) return hint
    try {
      return sealed()
    } catch {
      return 'at an unknown date (the vault state that records it cannot be read)'
    }
  }
}
