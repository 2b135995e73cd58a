import { isAgentTokenShape, splitGatePath } from '@aegis/guard'
import { decideForAgent, loadPolicyDir, type RuleRef } from '@aegis/policy'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { policiesDir, policiesDirFlag } from '../../lib/policies-dir.js'

/** `policy test --json` (interface contract §6), plus what was asked. */
export interface PolicyTestJson {
  allowed: boolean
  code?: 'policy_denied'
  rule?: { file: string; line: number; index: number; service: string }
  reason: string
  rateLimit?: string
  agent: string
  service: string
  method: string
  path: string
  at: string
}

function ruleJson(rule: RuleRef): NonNullable<PolicyTestJson['rule']> {
  return { file: rule.file, line: rule.line, index: rule.index, service: rule.service }
}

export default class PolicyTest extends AegisCommand<typeof PolicyTest> {
  static override summary = 'Dry-run one request against the policies: allowed or refused, and by which rule'
  static override description =
    'Evaluates the request as the gate would (policy step only: grants, scopes and rate budgets are not checked). Exits 0 when allowed, 1 when refused. Agents without a policy file follow gate.policy_default.'
  static override examples = [
    '<%= config.bin %> policy test --agent research-bot --service slack --method GET --path /api/conversations.list',
    '<%= config.bin %> policy test --agent research-bot --service slack --method POST --path /api/chat.postMessage --at 2026-03-02T20:00:00Z --json',
  ]

  static override flags = {
    agent: Flags.string({ description: 'Agent name', required: true }),
    service: Flags.string({ description: 'Service (the first path segment at the gate)', required: true }),
    method: Flags.string({ description: 'HTTP method', required: true }),
    path: Flags.string({
      description: 'Path after /{service}, e.g. /api/conversations.list',
      required: true,
    }),
    at: Flags.string({ description: 'Evaluate at this ISO 8601 time (default: now)' }),
    'policies-dir': policiesDirFlag,
  }

  async run(): Promise<PolicyTestJson> {
    const { flags } = this
    const config = this.loadAegisConfig()
    const dir = policiesDir(flags['policies-dir'], config)
    const now = flags.at === undefined ? Date.now() : Date.parse(flags.at)
    if (Number.isNaN(now))
      this.fail(`Invalid --at "${flags.at}": expected an ISO 8601 time such as 2026-03-02T09:30:00Z`)
    if (isAgentTokenShape(flags.agent)) {
      // Never repeated: it would sit in the terminal's scrollback and CI logs as well as the history.
      this.fail(
        '--agent takes the agent name, and this is an agent token: use the name (aegis agent list), and regenerate the token, which is now in your shell history',
      )
    }
    if (!flags.path.startsWith('/')) this.fail(`Invalid --path "${flags.path}": it must start with /`)
    const target = splitGatePath(`/${flags.service}${flags.path}`)
    if (!target.ok) this.fail(`The gate refuses this request before any policy: ${target.detail}`)
    const method = flags.method.toUpperCase()
    const set = loadPolicyDir(dir)
    const decision = decideForAgent(
      set,
      flags.agent,
      { service: target.service, method, path: target.path, now },
      { defaultPolicy: config.gate.policy_default },
    )
    const asked = {
      agent: flags.agent,
      service: target.service,
      method,
      path: target.path,
      at: new Date(now).toISOString(),
    }
    const request = `${method} ${target.service} ${target.path} for agent ${flags.agent} at ${asked.at}`
    const rule =
      decision.rule === null
        ? null
        : `  rule: ${decision.rule.file}:${decision.rule.line} (rules[${decision.rule.index}], service ${decision.rule.service})`
    if (decision.allowed) {
      this.log(`ALLOWED: ${request}`)
      if (rule !== null)
        this.log(rule + (decision.rate === null ? '' : `, rate limit ${decision.rate.rate.text}`))
      else this.log(`  ${decision.reason}`)
      return {
        allowed: true,
        ...(decision.rule === null ? {} : { rule: ruleJson(decision.rule) }),
        reason: decision.reason,
        ...(decision.rate === null ? {} : { rateLimit: decision.rate.rate.text }),
        ...asked,
      }
    }
    this.log(`REFUSED (policy_denied): ${request}`)
    if (rule !== null) this.log(rule)
    this.log(`  ${decision.reason}`)
    process.exitCode = 1
    return {
      allowed: false,
      code: decision.code,
      ...(decision.rule === null ? {} : { rule: ruleJson(decision.rule) }),
      reason: decision.reason,
      ...asked,
    }
  }
}
