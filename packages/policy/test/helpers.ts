import { type AgentPolicy, type PolicyDecision, type PolicyRequest, parsePolicy } from '../src/index.js'

/** Parses YAML written in the test as a policy file named `bot.yaml`. */
export function policyOf(yaml: string, file = 'bot.yaml'): AgentPolicy {
  return parsePolicy(yaml, file)
}

/** A request at `iso` (default: a weekday noon UTC). */
export function req(
  method: string,
  service: string,
  path: string,
  iso = '2026-06-10T12:00:00Z',
): PolicyRequest {
  return { method, service, path, now: Date.parse(iso) }
}

export function allowedIndex(decision: PolicyDecision): number | null {
  return decision.allowed && decision.rule !== null ? decision.rule.index : null
}
