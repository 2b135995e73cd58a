import { bigint, index, integer, pgSchema, text } from 'drizzle-orm/pg-core'

// Not exported: the `aegis` schema itself is created by @aegis/pg's core migrations, and an exported
// pgSchema would make drizzle-kit emit a second, conflicting CREATE SCHEMA here.
const aegis = pgSchema('aegis')

/**
 * The ledger on PostgreSQL: the same columns, names and value representations as the SQLite
 * `entries` table (src/schema.ts; ISO text `time`, epoch-ms `ts`), so one row mapper serves both.
 * Every count is a bigint, as SQLite integers are 64-bit: a response of more than 2 GiB must not
 * fail the batch it rides in. The id is an identity, so ids are distinct across every gate writing
 * here. Nothing secret is a column (see src/schema.ts).
 */
export const ledgerEntries = aegis.table(
  'ledger_entries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    time: text('time').notNull(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    requestId: text('request_id'),
    channel: text('channel', { enum: ['gate', 'mcp', 'system'] }).notNull(),
    agent: text('agent'),
    credential: text('credential'),
    service: text('service'),
    targetHost: text('target_host'),
    method: text('method'),
    path: text('path'),
    decision: text('decision', { enum: ['allowed', 'blocked', 'failed', 'system'] }).notNull(),
    code: text('code'),
    status: integer('status'),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    bytesIn: bigint('bytes_in', { mode: 'number' }),
    bytesOut: bigint('bytes_out', { mode: 'number' }),
    dryRun: text('dry_run'),
    redactions: bigint('redactions', { mode: 'number' }),
    inspection: text('inspection'),
    event: text('event'),
    detail: text('detail'),
  },
  // Written by every request before it is forwarded, so only what the reads need: (ts, id) serves
  // every range and the export's keyset pages in their order, service and agent the filters.
  (t) => [
    index('ledger_entries_ts_idx').on(t.ts, t.id),
    index('ledger_entries_service_idx').on(t.service),
    index('ledger_entries_agent_idx').on(t.agent),
  ],
)
