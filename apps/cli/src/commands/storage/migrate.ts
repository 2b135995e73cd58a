import { migrate, type SchemaStatus } from '@aegis/pg'
import { AegisCommand } from '../../base-command.js'
import { PG_MIGRATION_SETS, pgFailure } from '../../lib/postgres.js'
import { schemaLines, withPostgres } from '../../lib/storage-command.js'

/** `storage migrate --json`: each set after the run. */
export interface MigrateResult {
  engine: 'postgres'
  sets: SchemaStatus[]
}

export default class StorageMigrate extends AegisCommand<typeof StorageMigrate> {
  static override summary = 'Create or upgrade the PostgreSQL schema every gate shares (storage.postgres.url)'
  static override description =
    'Applies the migrations of every package (core, vault, ledger, access, webhooks) under one lock, so several gates or CLIs may run it at once. Refuses, changing nothing, when the database is newer than this aegis.'
  static override examples = ['<%= config.bin %> storage migrate', '<%= config.bin %> storage migrate --json']

  async run(): Promise<MigrateResult> {
    const config = this.loadAegisConfig()
    return withPostgres(config, 'storage migrate', async (pool, url) => {
      let sets: SchemaStatus[]
      try {
        sets = await migrate(pool, PG_MIGRATION_SETS)
      } catch (error) {
        throw pgFailure(error, url)
      }
      for (const line of schemaLines(sets)) this.log(line)
      this.log('The schema is current')
      return { engine: 'postgres', sets }
    })
  }
}
