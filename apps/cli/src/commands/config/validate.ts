import { existsSync } from 'node:fs'
import type { AegisConfig } from '@aegis/config'
import { AegisCommand } from '../../base-command.js'
import { configExposure } from '../../lib/config-exposure.js'

/** `config validate --json`. */
export interface ValidateResult {
  valid: true
  file: string | null
  warnings: string[]
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
      const problems = everyProblem(error)
      if (problems === null) throw error
      // One problem per line: the first as the error line, the rest under it.
      process.stderr.write(`Error: ${problems.join('\n  ')}\n  (${problems.length} problems)\n`)
      return this.exit(1)
    }
    const file = config.source.file
    const warnings = missingFiles(config)
    for (const warning of warnings) this.logToStderr(`Warning: ${warning}`)
    // A secret other users can read is no warning: aegis doctor fails on it too.
    const exposure = configExposure(config)
    if (exposure !== null) this.fail(exposure)
    this.log(
      file
        ? `OK: ${file} is valid`
        : 'OK: no config file found; built-in defaults and AEGIS_* variables are valid',
    )
    return { valid: true, file, warnings }
  }
}

/** Every problem of a ConfigError that found more than one, else null. */
function everyProblem(error: unknown): readonly string[] | null {
  const problems = (error as { name?: string; problems?: readonly string[] }).problems
  return (error as Error).name === 'ConfigError' && problems && problems.length > 1 ? problems : null
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
