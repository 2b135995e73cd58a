import type pg from 'pg'

/** The change topic a seal or an unseal of the deployment notifies (see `ChangeFeed`). */
export const SEAL_TOPIC = 'seal'

/** The deployment's sealed state as the database holds it (`aegis.aegis_seal`). */
export interface SharedSealState {
  sealed: boolean
  /** When it last changed; null when it never did (never sealed). */
  changedAt: Date | null
  /** Who changed it (a user name, or a description of the caller); null when unknown. */
  changedBy: string | null
}

type Queryable = Pick<pg.Pool, 'query'>

/** Reads the deployment's sealed state: one row at most, no row meaning never sealed. */
export async function readSealState(db: Queryable): Promise<SharedSealState> {
  const result = await db.query<{ sealed: boolean; changed_at: Date; changed_by: string | null }>(
    'SELECT sealed, changed_at, changed_by FROM aegis.aegis_seal WHERE id = 1',
  )
  const row = result.rows[0]
  if (row === undefined) return { sealed: false, changedAt: null, changedBy: null }
  return { sealed: row.sealed, changedAt: row.changed_at, changedBy: row.changed_by }
}

/**
 * Records that the deployment is sealed (every gate on this database seals when the notification
 * arrives) or unsealed (a caller proved the key; gates that forgot theirs stay sealed until each is
 * unsealed itself). The notification is sent at commit, topic `seal`.
 */
export async function writeSealState(
  db: Queryable,
  sealed: boolean,
  changedBy: string | null,
): Promise<void> {
  await db.query(
    `INSERT INTO aegis.aegis_seal (id, sealed, changed_at, changed_by) VALUES (1, $1, now(), $2)
     ON CONFLICT (id) DO UPDATE SET sealed = EXCLUDED.sealed, changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by`,
    [sealed, changedBy],
  )
}
