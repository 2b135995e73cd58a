import { loadPolicyDir, type PolicyError } from '@aegis/policy'
import { AegisCommand } from '../../base-command.js'
import { policiesDir, policiesDirFlag } from '../../lib/policies-dir.js'

/** One error of `policy validate --json`. */
export interface PolicyErrorJson {
  line: number | null
  field: string
  message: string
}

/** `policy validate --json`. */
export interface ValidateJson {
  valid: boolean
  dir: string
  files: { file: string; agent: string | null; rules: number | null; errors: PolicyErrorJson[] }[]
}

function errorJson(error: PolicyError): PolicyErrorJson {
  return { line: error.line, field: error.path, message: error.reason }
}

export default class PolicyValidate extends AegisCommand<typeof PolicyValidate> {
  static override summary = 'Check every policy file without starting the gate'
  static override description =
    'Reads every *.yaml / *.yml file in the policies directory and reports each one as OK or with its errors (file:line: field: message). Exits 1 when any file is invalid: the gate would deny that agent everything.'
  static override examples = [
    '<%= config.bin %> policy validate --policies-dir ./policies',
    '<%= config.bin %> policy validate --json',
  ]

  static override flags = {
    'policies-dir': policiesDirFlag,
  }

  async run(): Promise<ValidateJson> {
    const config = this.loadAegisConfig()
    const dir = policiesDir(this.flags['policies-dir'], config)
    const set = loadPolicyDir(dir)
    const files = set.entries.map((entry) => ({
      file: entry.file,
      agent: entry.agent,
      rules: entry.policy?.rules.length ?? null,
      errors: entry.errors.map(errorJson),
    }))
    if (set.entries.length === 0) this.log(`No policy files (*.yaml, *.yml) in ${dir}`)
    for (const entry of set.entries) {
      if (entry.errors.length === 0) {
        const rules = entry.policy?.rules.length ?? 0
        this.log(`OK     ${entry.file} (agent ${entry.agent}, ${rules} rule${rules === 1 ? '' : 's'})`)
      } else {
        // A file with no readable agent might be anyone's: the gate denies every agent without a policy.
        const denied = entry.agent
          ? `agent ${entry.agent} is denied everything`
          : 'no agent can be read from it: every agent without a valid policy is denied'
        this.log(`ERROR  ${entry.file} (${denied})`)
        for (const error of entry.errors) this.log(`  ${error.message}`)
      }
    }
    const valid = set.errors.length === 0
    if (!valid) {
      const broken = set.entries.filter((e) => e.errors.length > 0).length
      this.logToStderr(`${broken} of ${set.entries.length} policy files are invalid`)
      process.exitCode = 1
    }
    return { valid, dir, files }
  }
}
