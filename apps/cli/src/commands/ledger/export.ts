import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream, existsSync, linkSync, renameSync, rmSync, type WriteStream } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { type ExportFormat, exportLedger } from '@aegis/ledger'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { sinceFlag, withLedger } from '../../lib/ledger-file.js'
import { missingFolder, outputExists, outputFileError } from '../../lib/output-file.js'

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
    const target = flags.output === undefined ? null : { path: flags.output, flag: '-o' }
    let file: WriteStream | undefined
    // The export goes to a hidden file beside the target and appears under its name only whole: an
    // export that fails, or is killed, never leaves a partial file to be taken for a complete one
    // (nor one in the way of the next try).
    let partial: string | null = null
    if (target !== null) {
      const refusal = missingFolder(target) ?? (existsSync(target.path) ? outputExists(target) : null)
      if (refusal !== null) throw refusal
      partial = join(
        dirname(target.path),
        `.${basename(target.path)}.${randomBytes(6).toString('hex')}.partial`,
      )
      file = createWriteStream(partial, { mode: 0o600, flags: 'wx' })
      try {
        await once(file, 'open')
      } catch (error) {
        throw outputFileError(target, error)
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
      if (file !== undefined && target !== null && partial !== null) {
        file.end()
        await once(file, 'finish')
        publish(partial, target)
      }
    } catch (error) {
      if (file !== undefined && partial !== null) {
        file.destroy()
        rmSync(partial, { force: true })
      }
      // A write to the file that failed (a full disk): said of the file, as a failed open is.
      if (target !== null && typeof (error as NodeJS.ErrnoException).syscall === 'string') {
        throw outputFileError(target, error)
      }
      throw error
    }
    if (target !== null) process.stderr.write(`Exported ${rows} entries to ${target.path}\n`)
  }
}

/**
 * Gives the finished export its name without ever replacing a file: a hard link fails if the name
 * was taken meanwhile. On a file system without hard links, a rename after one more look.
 */
function publish(partial: string, target: { path: string; flag: string }): void {
  try {
    linkSync(partial, target.path)
    rmSync(partial, { force: true })
    return
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') {
      throw outputFileError(target, error)
    }
  }
  if (existsSync(target.path)) throw outputExists(target)
  renameSync(partial, target.path)
}
