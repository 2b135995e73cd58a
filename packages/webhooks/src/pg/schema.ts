import { bigint, customType, index, integer, pgSchema, primaryKey, text } from 'drizzle-orm/pg-core'

/**
 * The outbox on PostgreSQL: the same tables and representations as the SQLite DDL (src/schema.ts),
 * so the row mappers in outbox-rules.ts serve both: times are epoch milliseconds, `events` a
 * comma-separated list, `data` JSON text, `secret` the host-sealed envelope (never a plain secret).
 * Read by drizzle-kit only (`pnpm db:generate:pg`); PgOutbox speaks SQL through the pool.
 */
export const aegis = pgSchema('aegis')

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })

export const webhookEndpoints = aegis.table('webhook_endpoints', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  events: text('events').notNull(),
  secret: bytea('secret').notNull(),
  status: text('status').notNull().default('active'),
  disabledReason: text('disabled_reason'),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
})

export const webhookEvents = aegis.table(
  'webhook_events',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    coalesceKey: text('coalesce_key').notNull(),
    data: text('data').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    windowEnd: bigint('window_end', { mode: 'number' }).notNull(),
  },
  (t) => [index('webhook_events_key_idx').on(t.coalesceKey, t.windowEnd)],
)

export const webhookDeliveries = aegis.table(
  'webhook_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: text('event_id')
      .notNull()
      .references(() => webhookEvents.id),
    endpointId: text('endpoint_id').notNull(),
    status: text('status').notNull(),
    attempt: integer('attempt').notNull().default(0),
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }).notNull(),
    leaseUntil: bigint('lease_until', { mode: 'number' }),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    lastAttemptAt: bigint('last_attempt_at', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.status),
    index('webhook_deliveries_event_idx').on(t.eventId),
  ],
)

export const webhookExpiryNotices = aegis.table(
  'webhook_expiry_notices',
  {
    credential: text('credential').notNull(),
    expiresAt: text('expires_at').notNull(),
    thresholdDays: integer('threshold_days').notNull(),
    eventId: text('event_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.credential, t.expiresAt, t.thresholdDays] })],
)
