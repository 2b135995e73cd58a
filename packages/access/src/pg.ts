/**
 * @aegis/access/pg — the users in PostgreSQL (`storage.postgres.url`): a `UserStore` like
 * `sqliteUserStore`. A subpath of its own so that a process on SQLite never loads pg or drizzle's
 * pg-core; the migrations (`ACCESS_PG_MIGRATIONS`) stay in the root.
 */
export { openPgUserStore } from './pg/store.js'
