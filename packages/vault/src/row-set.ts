import { createHmac, timingSafeEqual } from 'node:crypto'

// What a row seal cannot prove: that the row is still current. A row saved before `agent revoke`,
// `agent regenerate`, `vault update` or a removal carries a valid seal, and put back it would be
// honoured again. The sealed state of a vault (its key check, written only with the master key)
// therefore also holds one MAC per table over the set of its current rows; every write rewrites
// it in the same transaction, every load compares it. A row added, removed or put back outside
// Aegis changes the set; which row did cannot be known, so the whole table is refused.
//
// A credential counts as its seal AND its secret envelope (from format 5): `vault rotate` changes
// only the envelope, so an envelope saved before it and written back would otherwise decrypt and be
// served again. The price, chosen knowingly: a credential whose envelope is damaged on disk (a bad
// restore, a disk error) no longer costs that one row only; like any other change made outside
// Aegis it makes the credentials table mismatch and the vault serves none of its credentials until
// the operator restores a backup or accepts the rows (`aegis vault reseal --confirm`), after which
// the damaged row alone stays unavailable (`vault rotate` repairs it).

/** The tables whose current rows the sealed state authenticates, in the order they are checked. */
export const ROW_TABLES = ['credentials', 'agents', 'grants'] as const
export type RowTable = (typeof ROW_TABLES)[number]

/** One MAC per table (base64), as the sealed state stores them. */
export type RowSets = Record<RowTable, string>

/** The stored values of the rows of each table that the set MAC covers. */
export interface StoredRowSets {
  /** Each credential's settings seal and its secret envelope (see above: a replayed envelope). */
  credentials: ReadonlyArray<{ seal: unknown; secret: unknown }>
  agents: ReadonlyArray<{ seal: unknown }>
  grants: ReadonlyArray<{ seal: unknown }>
}

/** The encoding of the sets at format 5 (credentials: seal and envelope). */
const ENCODING = 'aegis-row-set-v2'
/** The encoding of the sets at format 4 (every row: its seal only); read only to upgrade. */
const FORMAT4_ENCODING = 'aegis-row-set-v1'

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
function tableMac(
  encoding: string,
  sealKey: Buffer,
  vaultName: string,
  table: RowTable,
  rows: Buffer[],
): string {
  const mac = createHmac('sha256', sealKey).update(JSON.stringify([encoding, vaultName, table, rows.length]))
  for (const row of rows.sort(Buffer.compare)) mac.update(row)
  return mac.digest('base64')
}

/** The MAC of each table's current rows. */
export function rowSetMacs(sealKey: Buffer, vaultName: string, rows: StoredRowSets): RowSets {
  const mac = (table: RowTable, elements: Buffer[]) => tableMac(ENCODING, sealKey, vaultName, table, elements)
  return {
    credentials: mac(
      'credentials',
      rows.credentials.map((r) => element([r.seal, r.secret])),
    ),
    agents: mac(
      'agents',
      rows.agents.map((r) => element([r.seal])),
    ),
    grants: mac(
      'grants',
      rows.grants.map((r) => element([r.seal])),
    ),
  }
}

/**
 * The MAC of each table's rows as a format-4 state recorded them (seals only, the format-4 subkey):
 * what an upgrade compares before it records the rows at format 5.
 */
export function format4RowSetMacs(format4SealKey: Buffer, vaultName: string, rows: StoredRowSets): RowSets {
  const mac = (table: RowTable, seals: ReadonlyArray<{ seal: unknown }>) =>
    tableMac(
      FORMAT4_ENCODING,
      format4SealKey,
      vaultName,
      table,
      seals.map((r) => element([r.seal])),
    )
  return {
    credentials: mac('credentials', rows.credentials),
    agents: mac('agents', rows.agents),
    grants: mac('grants', rows.grants),
  }
}

/**
 * A set MAC no rows have: what an upgrade records for a table that did not match its format-4 set,
 * so the table stays refused (naming it) until a restore or `vault reseal`.
 */
export const UNMATCHED_ROW_SET = ''

/** Whether a recorded set MAC is not the one computed now (constant time). */
export function rowSetDiffers(recorded: string, now: string): boolean {
  const a = Buffer.from(recorded, 'base64')
  const b = Buffer.from(now, 'base64')
  return a.length !== b.length || !timingSafeEqual(a, b)
}

/** The first table whose rows differ from what the sealed state recorded, or null (constant time). */
export function changedRowTable(recorded: RowSets, now: RowSets): RowTable | null {
  return ROW_TABLES.find((table) => rowSetDiffers(recorded[table], now[table])) ?? null
}

/** The one-line reason every row of a vault is refused when `table` no longer matches its record. */
export function rowSetMismatch(vaultName: string, table: RowTable): string {
  const how =
    table === 'credentials'
      ? "rows were added, removed or put back, or a secret's stored ciphertext was replaced or damaged, outside Aegis, e.g. an old row or the ciphertext of a rotated secret replayed"
      : 'rows were added, removed or put back outside Aegis, e.g. an old row replayed'
  return `vault "${vaultName}": its ${table} table does not match the set of rows Aegis last wrote (${how}); which rows cannot be known, so nothing in this vault is used. Restore the vault from a backup, or, holding the master key, accept the rows as they are now: aegis vault reseal --name ${vaultName} --confirm`
}
