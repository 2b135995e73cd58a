import { loadPolicyDir } from '@aegis/policy'
import { AegisCommand } from '../../base-command.js'
import { policiesDir, policiesDirFlag } from '../../lib/policies-dir.js'
import { renderTable } from '../../lib/table.js'

/** One row of `policy list --json`. */
export interface PolicyListJson {
  agent: string | null
  file: string
  status: 'ok' | 'broken'
  rules: number | null
  services: string[]
  errors: string[]
}

export default class PolicyList extends AegisCommand<typeof PolicyList> {
  static override summary = 'List agent policies: agents, rule counts, services, and broken files'
  static override examples = [
    '<%= config.bin %> policy list --policies-dir ./policies',
    '<%= config.bin %> policy list --json',
  ]

  static override flags = {
    'policies-dir': policiesDirFlag,
  }

  async run(): Promise<PolicyListJson[]> {
    const config = this.loadAegisConfig()
    const dir = policiesDir(this.flags['policies-dir'], config)
    const set = loadPolicyDir(dir)
    const rows: PolicyListJson[] = set.entries.map((entry) => ({
      agent: entry.agent,
      file: entry.file,
      status: entry.errors.length === 0 ? 'ok' : 'broken',
      rules: entry.policy?.rules.length ?? null,
      services: [...new Set(entry.policy?.rules.map((rule) => rule.service) ?? [])],
      errors: entry.errors.map((error) => error.message),
    }))
    if (rows.length === 0) {
      this.log(`No policy files (*.yaml, *.yml) in ${dir}`)
      return rows
    }
    const ok = rows.filter((row) => row.status === 'ok')
    if (ok.length > 0) {
      this.log(
        renderTable(
          ['AGENT', 'RULES', 'SERVICES', 'FILE'],
          ok.map((row) => [row.agent ?? '', String(row.rules ?? 0), row.services.join(',') || '-', row.file]),
        ),
      )
    }
    const broken = rows.filter((row) => row.status === 'broken')
    if (broken.length > 0) {
      if (ok.length > 0) this.log('')
      this.log('Broken (these agents are denied everything until fixed):')
      for (const row of broken) {
        this.log(
          `  ${row.file} (agent ${row.agent ?? 'unknown: every agent without a valid policy is denied'})`,
        )
        for (const error of row.errors) this.log(`    ${error}`)
      }
    }
    return rows
  }
}
