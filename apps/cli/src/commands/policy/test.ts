import { POLICY_MODES } from '@aegis/config'
import { isAgentTokenShape, splitGatePath } from '@aegis/guard'
import { decideForAgent, loadPolicyDir, type PolicyDecision, type RuleRef } from '@aegis/policy'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { policiesDir, policiesDirFlag } from '../../lib/policies-dir.js'

/**
 * `policy test --json` (interface contract §6), plus what was asked. `allowed` and `code` are the
 * policies' verdict — what the command tests, and its exit code. `forwarded` is what a gate in
 * `policyMode` does with the request: in dry-run it forwards what the policy refuses (its ledger
 * row says `dryRun: policy_denied`), in off it applies no policy.
 */
export interface PolicyTestJson {
  allowed: boolean
  code?: 'policy_denied'
  rule?: { file: string; line: number; index: number; service: string }
  reason: string
  rateLimit?: string
  policyMode: PolicyMode
  /** Whether a gate in `policyMode` forwards the request (as far as policies decide). */
  forwarded: boolean
  /** Dry-run only: the code the policy refuses with (the ledger row's `dryRun`). */
  dryRun?: 'policy_denied'
  agent: string
  service: string
  method: string
  path: string
  at: string
}

type PolicyMode = (typeof POLICY_MODES)[number]

function ruleJson(rule: RuleRef): NonNullable<PolicyTestJson['rule']> {
  return { file: rule.file, line: rule.line, index: rule.index, service: rule.service }
}

/** The line that says what a gate in `mode` does, when that differs from enforcing the verdict. */
function modeLine(mode: PolicyMode, decision: PolicyDecision): string | null {
  if (mode === 'off') return '  policy_mode off: the gate applies no policy and forwards it'
  if (mode === 'dry-run' && !decision.allowed)
    return '  policy_mode dry-run: the gate forwards it and records dryRun: policy_denied'
  return null
}

export default class PolicyTest extends AegisCommand<typeof PolicyTest> {
  static override summary = 'Dry-run one request against the policies: allowed or refused, and by which rule'
  static override description =
    'Evaluates the request against the policies as the gate would (policy step only: grants, scopes and rate budgets are not checked). Exits 0 when the policies allow it, 1 when they refuse it. When gate.policy_mode (or --policy-mode) is dry-run or off, a line says what such a gate does instead (dry-run forwards a refused request and records dryRun: policy_denied; off applies no policy). Agents without a policy file follow gate.policy_default.'
  static override examples = [
    '<%= config.bin %> policy test --agent research-bot --service slack --method GET --path /api/conversations.list',
    '<%= config.bin %> policy test --agent research-bot --service slack --method POST --path /api/chat.postMessage --at 2026-03-02T20:00:00Z --json',
    '<%= config.bin %> policy test --agent research-bot --service slack --method POST --path /api/chat.postMessage --policy-mode enforce',
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
    'policy-mode': Flags.string({
      description: 'Evaluate as a gate in this mode (default: gate.policy_mode)',
      options: [...POLICY_MODES],
    }),
  }

  async run(): Promise<PolicyTestJson> {
    const { flags } = this
    const config = this.loadAegisConfig({
      gate: { policy_mode: flags['policy-mode'] as PolicyMode | undefined },
    })
    const mode = config.gate.policy_mode
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
    const forwarded = decision.allowed || mode !== 'enforce'
    // The gate spends a rule's rate budget in enforce and dry-run, never when policies are off.
    const rate = decision.allowed && decision.rate !== null && mode !== 'off' ? decision.rate.rate.text : null
    const request = `${method} ${target.service} ${target.path} for agent ${flags.agent} at ${asked.at}`
    this.log(decision.allowed ? `ALLOWED: ${request}` : `REFUSED (policy_denied): ${request}`)
    if (decision.rule !== null) {
      this.log(
        `  rule: ${decision.rule.file}:${decision.rule.line} (rules[${decision.rule.index}], service ${decision.rule.service})` +
          (rate === null ? '' : `, rate limit ${rate}`),
      )
    }
    if (!decision.allowed || decision.rule === null) this.log(`  ${decision.reason}`)
    const line = modeLine(mode, decision)
    if (line !== null) this.log(line)
    if (!decision.allowed) process.exitCode = 1
    return {
      allowed: decision.allowed,
      ...(decision.allowed ? {} : { code: 'policy_denied' as const }),
      ...(decision.rule === null ? {} : { rule: ruleJson(decision.rule) }),
      reason: decision.reason,
      ...(rate === null ? {} : { rateLimit: rate }),
      policyMode: mode,
      forwarded,
      ...(mode === 'dry-run' && !decision.allowed ? { dryRun: 'policy_denied' as const } : {}),
      ...asked,
    }
  }
}
