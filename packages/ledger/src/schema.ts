import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * The one ledger table. One row per request the gate or MCP server saw (allowed, blocked or failed)
 * and one row per system event (gate start/stop).
 *
 * What is deliberately NOT a column: secrets, agent tokens, request or response headers, query
 * strings, and bodies. `path` is stored without its query (the ledger cuts at `?` and `#` even if a
 * caller forgets), and `inspection` holds only the kinds of findings (e.g. `warn:github-token`),
 * never the matched text.
 */
export const entries = sqliteTable(
  'entries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** ISO 8601 UTC with milliseconds, e.g. `2026-03-01T12:00:00.000Z`. */
    time: text('time').notNull(),
    /** The same instant as `time` in epoch milliseconds; indexed for range queries. */
    ts: integer('ts').notNull(),
    requestId: text('request_id'),
    channel: text('channel', { enum: ['gate', 'mcp', 'system'] }).notNull(),
    agent: text('agent'),
    credential: text('credential'),
    service: text('service'),
    targetHost: text('target_host'),
    method: text('method'),
    /** Request path without query string or fragment. */
    path: text('path'),
    decision: text('decision', { enum: ['allowed', 'blocked', 'failed', 'system'] }).notNull(),
    /** Refusal or failure code (`domain_denied`, `upstream_timeout`, …). */
    code: text('code'),
    /** HTTP status returned to the agent (the upstream's status when forwarded). */
    status: integer('status'),
    durationMs: integer('duration_ms'),
    bytesIn: integer('bytes_in'),
    bytesOut: integer('bytes_out'),
    /** In policy dry-run mode: the code the request would have been refused with. */
    dryRun: text('dry_run'),
    /** How many secret occurrences were redacted from the response. */
    redactions: integer('redactions'),
    /** Kinds of inspection findings only, e.g. `warn:github-token`. */
    inspection: text('inspection'),
    /** System entries: `gate_start`, `gate_stop`, … */
    event: text('event'),
    /** System entries: a short human-readable detail. */
    detail: text('detail'),
  },
  // Every index is written on every request, before it is forwarded. `decision` has four values,
  // so an index on it would not narrow a query much; its filters scan the `ts` index instead.
  (t) => [
    index('entries_ts_idx').on(t.ts),
    index('entries_service_idx').on(t.service),
    index('entries_agent_idx').on(t.agent),
  ],
)
