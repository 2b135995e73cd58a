import { existsSync } from 'node:fs'
import type { AegisConfig, ConfigError } from '@aegis/config'
import { AegisCommand } from '../../base-command.js'
import { configExposure } from '../../lib/config-exposure.js'

/**
 * `config validate --json`: printed whether or not the configuration is valid (exit 1 when not), so
 * a script reads every problem from stdout. `problems` holds one line each (`file:line: key: what`).
 */
export interface ValidateResult {
  valid: boolean
  file: string | null
  warnings: string[]
  problems: string[]
}

export default class ConfigValidate extends AegisCommand<typeof ConfigValidate> {
  static override summary = 'Check the config file (and AEGIS_* variables) and report every problem'
  static override description =
    'Exit 0 when the configuration is valid and exposes no secret (a config file holding one must not be readable by group/others). Otherwise the first problem is the error line (file:line: key: what is wrong), ' +
    'and every further problem in the file follows on its own line, so one run finds them all.'
  static override examples = [
    '<%= config.bin %> config validate',
    '<%= config.bin %> config validate --config prod.yaml',
  ]

  async run(): Promise<ValidateResult> {
    let config: ReturnType<typeof this.loadAegisConfig>
    try {
      config = this.loadAegisConfig()
    } catch (error) {
      if (!isConfigError(error)) throw error
      const problems = [...error.problems]
      // One problem per line: the first as the error line, the rest under it.
      const more = problems.length > 1 ? `\n  (${problems.length} problems)` : ''
      process.stderr.write(`Error: ${problems.join('\n  ')}${more}\n`)
      process.exitCode = 1
      return { valid: false, file: error.file, warnings: [], problems }
    }
    const file = config.source.file
    const warnings = missingFiles(config)
    for (const warning of warnings) this.logToStderr(`Warning: ${warning}`)
    // A secret other users can read is no warning: aegis doctor fails on it too.
    const exposure = configExposure(config)
    if (exposure !== null) {
      process.stderr.write(`Error: ${exposure}\n`)
      process.exitCode = 1
      return { valid: false, file, warnings, problems: [exposure] }
    }
    this.log(
      file
        ? `OK: ${file} is valid`
        : 'OK: no config file found; built-in defaults and AEGIS_* variables are valid',
    )
    return { valid: true, file, warnings, problems: [] }
  }
}

/** A ConfigError (@aegis/config): the problems of the file or the AEGIS_* variables. */
function isConfigError(error: unknown): error is ConfigError {
  return (error as Error | null)?.name === 'ConfigError' && Array.isArray((error as ConfigError).problems)
}

/**
 * Files the configuration names that are not there: valid as configuration (they may be mounted
 * or created before the gate starts), but `aegis gate` refuses to start without them, so said now.
 */
function missingFiles(config: AegisConfig): string[] {
  const named: Array<[string, string | undefined]> = [
    ['gate.policies_dir', config.gate.policies_dir],
    ...(config.gate.tls.enabled
      ? ([
          ['gate.tls.cert', config.gate.tls.cert],
          ['gate.tls.key', config.gate.tls.key],
        ] as Array<[string, string | undefined]>)
      : []),
    ...config.gate.upstream.ca_file.map((file): [string, string] => ['gate.upstream.ca_file', file]),
  ]
  return named
    .filter((entry): entry is [string, string] => entry[1] !== undefined && !existsSync(entry[1]))
    .map(([key, file]) => `${key}: ${file} does not exist (aegis gate refuses to start without it)`)
}
