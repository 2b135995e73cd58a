/**
 * @aegis/vault/pg — vaults in PostgreSQL (`storage.postgres.url`): the same `VaultStore` as the
 * SQLite files, one database shared by several gates. A subpath of its own so that a process on
 * SQLite never loads pg or drizzle's pg-core; the migrations (`VAULT_PG_MIGRATIONS`) stay in the root.
 */
export {
  createPgVault,
  destroyPgVault,
  listPgVaults,
  openPgVault,
  PG_VAULT_LOCATION,
  type PgVaultOptions,
} from './pg/manage.js'
