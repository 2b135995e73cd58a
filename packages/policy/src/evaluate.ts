/**
 * evaluatePolicy / decideForAgent: pure, synchronous decisions. Nothing here spends rate budget.
 */
import type { PolicyError } from './errors.js'
import { canonicalPathProblem } from './path-pattern.js'
import type { PolicySet } from './policy-set.js'
import { windowOpen } from './time-window.js'
import type { AgentPolicy, PolicyDecision, PolicyRequest, PolicyRule, RuleRef } from './types.js'

const MAX_ECHOED_PATH = 200

function ref(policy: AgentPolicy, rule: PolicyRule): RuleRef {
  return { index: rule.index, file: policy.file, line: rule.line, service: rule.service }
}

function where(policy: AgentPolicy, rule: PolicyRule): string {
  return `${policy.file}:${rule.line} (rules[${rule.index}])`
}

/** The request for messages; long paths are cut (the path is agent-controlled). */
/** The request for messages: never the query (it may carry a secret); long values are cut. */
function describe(request: PolicyRequest): string {
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text)
  const path = String(request.path).split(/[?#]/)[0] ?? ''
  return `${cut(String(request.method), 20)} ${cut(String(request.service), 100)} ${cut(path, MAX_ECHOED_PATH)}`
}

function ruleMatches(rule: PolicyRule, request: PolicyRequest): boolean {
  if (rule.service !== request.service) return false
  if (rule.methods !== null && !rule.methods.has(request.method)) return false
  if (rule.paths === null) return true
  // A loop, not `some` with a closure: this runs for every rule of every request.
  for (const pattern of rule.paths) if (pattern.matches(request.path)) return true
  return false
}

/** `policy file F failed to load: line 7: rules[0].paths[1]: invalid regular expression: …` */
function failure(error: PolicyError | undefined): string {
  if (error === undefined) return 'a policy file failed to load'
  const parts = [error.line === null ? null : `line ${error.line}`, error.path || null, error.reason]
  return `policy file ${error.file} failed to load: ${parts.filter((p) => p !== null).join(': ')}`
}

/**
 * The decision of a rule that allows, made once per policy and rule: it depends on nothing else,
 * so the hot path allocates nothing when a request is allowed. Frozen, as it is shared.
 */
const allowDecisions = new WeakMap<AgentPolicy, PolicyDecision[]>()

function allowedBy(policy: AgentPolicy, rule: PolicyRule): PolicyDecision {
  let decisions = allowDecisions.get(policy)
  if (decisions === undefined) {
    decisions = []
    allowDecisions.set(policy, decisions)
  }
  let decision = decisions[rule.index]
  if (decision === undefined) {
    decision = Object.freeze({
      allowed: true,
      rule: Object.freeze(ref(policy, rule)),
      rate: rule.rate === null ? null : Object.freeze({ key: rule.rateKey, rate: rule.rate }),
      reason: `allowed by ${where(policy, rule)}`,
    })
    decisions[rule.index] = decision
  }
  return decision
}

function denied(rule: RuleRef | null, reason: string): PolicyDecision {
  return { allowed: false, code: 'policy_denied', rule, reason }
}

/**
 * Evaluates a request against one agent's rules, in order. The first rule whose service, method
 * and path match and whose time window is open allows (with that rule's rate, if any). A request
 * that matched rules only outside their windows is refused naming the first such window; a request
 * no rule matches is refused. A path the gate would not forward as it is (traversal, query, over
 * `MAX_MATCHED_PATH_LENGTH`) is refused whatever the rules say.
 */
export function evaluatePolicy(policy: AgentPolicy, request: PolicyRequest): PolicyDecision {
  const pathProblem = canonicalPathProblem(request.path)
  if (pathProblem !== null) return denied(null, `${describe(request)} is refused: ${pathProblem}`)
  let closed: PolicyRule | null = null
  for (const rule of policy.rules) {
    if (!ruleMatches(rule, request)) continue
    if (rule.window !== null && !windowOpen(rule.window, request.now)) {
      closed ??= rule
      continue
    }
    return allowedBy(policy, rule)
  }
  if (closed?.window) {
    return denied(
      ref(policy, closed),
      `${describe(request)} is allowed by ${where(policy, closed)} only between ${closed.window.text}; the time window is closed now`,
    )
  }
  return denied(null, `no rule in ${policy.file} allows ${describe(request)} for agent ${policy.agent}`)
}

/** What to do for agents that have no policy file. */
export interface DecideOptions {
  defaultPolicy: 'allow' | 'deny'
}

/**
 * The decision for `agent` under a loaded policy set, failing closed: an agent whose file failed to
 * load is refused everything; while any file's agent cannot be told, every agent without a valid
 * policy is refused; an agent with no policy file is allowed only when `defaultPolicy` is `allow`.
 */
export function decideForAgent(
  set: PolicySet,
  agent: string,
  request: PolicyRequest,
  options: DecideOptions,
): PolicyDecision {
  const broken = set.broken.get(agent)
  if (broken !== undefined) {
    return denied(null, `${failure(broken[0])}; agent ${agent} is denied everything until it is fixed`)
  }
  const policy = set.policies.get(agent)
  if (policy !== undefined) return evaluatePolicy(policy, request)
  const unknown = set.unattributed[0]
  if (unknown !== undefined) {
    return denied(
      null,
      `${failure(set.broken.get(unknown)?.[0])} and names no readable agent; agents without a valid policy are denied until it is fixed`,
    )
  }
  if (options.defaultPolicy === 'deny') {
    return denied(null, `agent ${agent} has no policy file and the default policy is deny`)
  }
  return {
    allowed: true,
    rule: null,
    rate: null,
    reason: `agent ${agent} has no policy file; the default policy allows`,
  }
}
