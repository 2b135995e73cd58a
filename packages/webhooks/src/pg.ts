/**
 * @aegis/webhooks/pg — the outbox in PostgreSQL (`storage.postgres.url`), shared by several gates.
 * A subpath of its own so that a process on SQLite never loads drizzle's pg-core; the migrations
 * (`WEBHOOKS_PG_MIGRATIONS`) stay in the root.
 */
export { PgOutbox } from './pg/outbox.js'
