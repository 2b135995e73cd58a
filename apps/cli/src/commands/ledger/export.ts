import { once } from 'node:events'
import { createWriteStream, rmSync, type WriteStream } from 'node:fs'
import { type ExportFormat, exportLedger } from '@aegis/ledger'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { sinceFlag, withLedger } from '../../lib/ledger-file.js'
import { outputFileError } from '../../lib/output-file.js'

export default class LedgerExport extends AegisCommand<typeof LedgerExport> {
  static override summary = 'Export the audit ledger as CSV, JSON or JSON Lines (streamed, oldest first)'
  static override enableJsonFlag = false
  static override examples = [
    '<%= config.bin %> ledger export -f csv > audit.csv',
    '<%= config.bin %> ledger export -f json -o audit.json',
    '<%= config.bin %> ledger export -f jsonl --service slack --since 2026-03-01',
  ]

  static override flags = {
    format: Flags.string({
      char: 'f',
      description: 'Output format',
      options: ['csv', 'json', 'jsonl'],
      required: true,
    }),
    output: Flags.string({ char: 'o', description: 'Write to this file (created 0600) instead of stdout' }),
    service: Flags.string({ description: 'Only requests for this service' }),
    agent: Flags.string({ description: 'Only requests made by this agent' }),
    since: Flags.string({ description: 'From this date (YYYY-MM-DD, UTC) or ISO 8601 time' }),
  }

  async run(): Promise<void> {
    const { flags } = this
    const since = sinceFlag(flags.since)
    let file: WriteStream | undefined
    if (flags.output !== undefined) {
      file = createWriteStream(flags.output, { mode: 0o600, flags: 'wx' })
      try {
        await once(file, 'open')
      } catch (error) {
        throw outputFileError({ path: flags.output, flag: '-o' }, error)
      }
    }
    const out = file ?? process.stdout
    let rows: number
    try {
      const exported = await this.withStorage((storage) =>
        withLedger(storage, (ledger) =>
          exportLedger(
            ledger,
            flags.format as ExportFormat,
            { service: flags.service, agent: flags.agent, since },
            out,
          ),
        ),
      )
      rows = exported.rows
      if (file !== undefined) {
        file.end()
        await once(file, 'finish')
      }
    } catch (error) {
      // The file was made by this run (never an existing one): a partial export is not left behind
      // to be taken for a whole one, nor to stand in the way of the next try.
      if (file !== undefined && flags.output !== undefined) {
        file.destroy()
        rmSync(flags.output, { force: true })
      }
      throw error
    }
    if (file !== undefined) process.stderr.write(`Exported ${rows} entries to ${flags.output}\n`)
  }
}
