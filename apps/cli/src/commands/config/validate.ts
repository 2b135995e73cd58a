import { AegisCommand } from '../../base-command.js'

/** `config validate --json`. */
export interface ValidateResult {
  valid: true
  file: string | null
  warnings: string[]
}

export default class ConfigValidate extends AegisCommand<typeof ConfigValidate> {
  static override summary = 'Check the config file (and AEGIS_* variables) and report the first problem'
  static override examples = [
    '<%= config.bin %> config validate',
    '<%= config.bin %> config validate --config prod.yaml',
  ]

  async run(): Promise<ValidateResult> {
    const config = this.loadAegisConfig()
    const file = config.source.file
    const warnings = [...config.source.warnings]
    for (const warning of warnings) this.logToStderr(`Warning: ${warning}`)
    this.log(
      file
        ? `OK: ${file} is valid`
        : 'OK: no config file found; built-in defaults and AEGIS_* variables are valid',
    )
    return { valid: true, file, warnings }
  }
}
