import { migrate, type SchemaStatus } from '@aegis/pg'
import { AegisCommand } from '../../base-command.js'
import { PG_MIGRATION_SETS, pgFailure, pgSchemaStatuses } from '../../lib/postgres.js'
import { schemaLines, withPostgres } from '../../lib/storage-command.js'

/** `storage migrate --json`: each set after the run, with how many migrations this run applied. */
export interface MigrateResult {
  engine: 'postgres'
  sets: Array<SchemaStatus & { appliedNow: number }>
}

export default class StorageMigrate extends AegisCommand<typeof StorageMigrate> {
  static override summary = 'Create or upgrade the PostgreSQL schema every gate shares (storage.postgres.url)'
  static override description =
    'Applies the migrations of every package (core, vault, ledger, access, webhooks) under one lock, so several gates or CLIs may run it at once. Refuses, changing nothing, when the database is newer than this aegis.'
  static override examples = ['<%= config.bin %> storage migrate', '<%= config.bin %> storage migrate --json']

  async run(): Promise<MigrateResult> {
    const config = this.loadAegisConfig()
    return withPostgres(config, 'storage migrate', async (pool, url) => {
      let sets: MigrateResult['sets']
      try {
        const before = new Map((await pgSchemaStatuses(pool)).map((s) => [s.set, s.applied]))
        const after = await migrate(pool, PG_MIGRATION_SETS)
        sets = after.map((s) => ({ ...s, appliedNow: s.applied - (before.get(s.set) ?? 0) }))
      } catch (error) {
        throw pgFailure(error, url)
      }
      for (const line of schemaLines(sets)) this.log(line)
      const now = sets.reduce((n, s) => n + s.appliedNow, 0)
      this.log(
        now === 0 ? 'The schema was already current' : `Applied ${now} migration(s); the schema is current`,
      )
      return { engine: 'postgres', sets }
    })
  }
}
