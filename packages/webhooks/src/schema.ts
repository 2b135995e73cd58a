/**
 * The outbox tables live in the ledger's database file so that an event row commits in the same
 * transaction as the ledger entry that caused it (phase2-notes §1.4). Plain `IF NOT EXISTS` DDL:
 * the tables are the webhook package's own, created when the outbox attaches to the ledger.
 * No column holds a plain secret: `secret` is sealed by the host (the CLI uses the vault's key).
 */
export const OUTBOX_DDL = `
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  disabled_reason TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  coalesce_key TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  window_end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_events_key_idx ON webhook_events (coalesce_key, window_end);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES webhook_events (id),
  endpoint_id TEXT NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER,
  last_status INTEGER,
  last_error TEXT,
  last_attempt_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, status);
CREATE INDEX IF NOT EXISTS webhook_deliveries_event_idx ON webhook_deliveries (event_id);
CREATE TABLE IF NOT EXISTS webhook_expiry_notices (
  credential TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  threshold_days INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (credential, expires_at, threshold_days)
);
`

export const DELIVERY_STATUSES = ['pending', 'delivering', 'succeeded', 'dead', 'cancelled'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]
