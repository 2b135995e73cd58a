import { createHmac, timingSafeEqual } from 'node:crypto'

// What a row seal cannot prove: that the row is still current. A row saved before `agent revoke`,
// `agent regenerate`, `vault update` or a removal carries a valid seal, and put back it would be
// honoured again. The sealed state of a vault (its key check, written only with the master key)
// therefore also holds one MAC per table over the set of its current rows; every write rewrites
// it in the same transaction, every load compares it. A row added, removed or put back outside
// Aegis changes the set; which row did cannot be known, so the whole table is refused.

/** The tables whose current rows the sealed state authenticates, in the order they are checked. */
export const ROW_TABLES = ['credentials', 'agents', 'grants'] as const
export type RowTable = (typeof ROW_TABLES)[number]

/** One MAC per table (base64), as the sealed state stores them. */
export type RowSets = Record<RowTable, string>

/** The stored values of the rows of each table that the set MAC covers. */
export interface StoredRowSets {
  /**
   * Each credential's settings seal. The secret envelope is not covered: a damaged one stays one
   * unavailable row (see `loadCredentialRows`) rather than refusing the vault.
   */
  credentials: ReadonlyArray<{ seal: unknown }>
  agents: ReadonlyArray<{ seal: unknown }>
  grants: ReadonlyArray<{ seal: unknown }>
}

const ENCODING = 'aegis-row-set-v1'

function bytes(value: unknown): Buffer {
  // A NULL or mistyped column still counts as a row (its seal fails on its own).
  return Buffer.isBuffer(value) ? value : Buffer.from(`not-bytes:${typeof value}:${String(value)}`)
}

function element(parts: readonly unknown[]): Buffer {
  return Buffer.concat(
    parts.flatMap((p) => {
      const b = bytes(p)
      const length = Buffer.alloc(4)
      length.writeUInt32BE(b.length)
      return [length, b]
    }),
  )
}

/**
 * HMAC-SHA-256 of one table's rows as a set: the label, vault, table and row count, then every
 * row's length-prefixed encoding in byte order (independent of the order the database returns).
 */
function tableMac(sealKey: Buffer, vaultName: string, table: RowTable, rows: Buffer[]): string {
  const mac = createHmac('sha256', sealKey).update(JSON.stringify([ENCODING, vaultName, table, rows.length]))
  for (const row of rows.sort(Buffer.compare)) mac.update(row)
  return mac.digest('base64')
}

/** The MAC of each table's current rows. */
export function rowSetMacs(sealKey: Buffer, vaultName: string, rows: StoredRowSets): RowSets {
  return {
    credentials: tableMac(
      sealKey,
      vaultName,
      'credentials',
      rows.credentials.map((r) => element([r.seal])),
    ),
    agents: tableMac(
      sealKey,
      vaultName,
      'agents',
      rows.agents.map((r) => element([r.seal])),
    ),
    grants: tableMac(
      sealKey,
      vaultName,
      'grants',
      rows.grants.map((r) => element([r.seal])),
    ),
  }
}

/** The first table whose rows differ from what the sealed state recorded, or null (constant time). */
export function changedRowTable(recorded: RowSets, now: RowSets): RowTable | null {
  for (const table of ROW_TABLES) {
    const a = Buffer.from(recorded[table], 'base64')
    const b = Buffer.from(now[table], 'base64')
    if (a.length !== b.length || !timingSafeEqual(a, b)) return table
  }
  return null
}

/** The one-line reason every row of a vault is refused when `table` no longer matches its record. */
export function rowSetMismatch(vaultName: string, table: RowTable): string {
  return `vault "${vaultName}": its ${table} table does not match the set of rows Aegis last wrote (rows were added, removed or put back outside Aegis, e.g. an old row replayed); which rows cannot be known, so nothing in this vault is used. Restore the vault from a backup, or, holding the master key, accept the rows as they are now: aegis vault reseal --name ${vaultName} --confirm`
}
