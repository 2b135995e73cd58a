export { CHANGES_CHANNEL, type ChangeEvent, ChangeFeed, type ChangeFeedOptions } from './changes.js'
export { SchemaError, type SchemaErrorCode } from './errors.js'
export {
  AEGIS_SCHEMA,
  assertSchemaCurrent,
  CORE_MIGRATIONS,
  type MigrationSet,
  migrate,
  newerSchema,
  type SchemaState,
  type SchemaStatus,
  schemaStatus,
} from './migrations.js'
export { type OpenPoolOptions, openPool } from './pool.js'
export { readSealState, SEAL_TOPIC, type SharedSealState, writeSealState } from './seal-state.js'
