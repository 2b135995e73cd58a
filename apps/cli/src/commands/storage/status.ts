import type { SchemaStatus } from '@aegis/pg'
import { AegisCommand } from '../../base-command.js'
import { pgFailure, pgSchemaStatuses, pgWhere } from '../../lib/postgres.js'
import { openStorage } from '../../lib/storage.js'
import { schemaLines } from '../../lib/storage-command.js'

/** `storage status --json`. */
export type StatusResult =
  | { engine: 'sqlite'; dataDir: string }
  | { engine: 'postgres'; url: string; current: boolean; sets: SchemaStatus[] }

export default class StorageStatus extends AegisCommand<typeof StorageStatus> {
  static override summary = 'Show which engine holds the state and, on PostgreSQL, where each schema stands'
  static override description =
    'Exit status 1 when a PostgreSQL schema is not current (empty, behind, or ahead of this aegis).'
  static override examples = ['<%= config.bin %> storage status', '<%= config.bin %> storage status --json']

  async run(): Promise<StatusResult> {
    const config = this.loadAegisConfig()
    const url = config.storage.postgres.url
    if (url === undefined) {
      const dataDir = config.vault.data_dir
      this.log(
        `Engine: SQLite, files in ${dataDir} (set storage.postgres.url or AEGIS_PG_URL to share state between gates)`,
      )
      return { engine: 'sqlite', dataDir }
    }
    const storage = await openStorage(config, config.vault.data_dir, { checkSchema: false })
    let sets: SchemaStatus[]
    try {
      sets = await pgSchemaStatuses(storage.pool as NonNullable<typeof storage.pool>)
    } catch (error) {
      throw pgFailure(error, url)
    } finally {
      await storage.close()
    }
    this.log(`Engine: PostgreSQL at ${pgWhere(url)}`)
    for (const line of schemaLines(sets)) this.log(line)
    const current = sets.every((s) => s.state === 'current')
    if (!current) process.exitCode = 1
    return { engine: 'postgres', url: pgWhere(url), current, sets }
  }
}
