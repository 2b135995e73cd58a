/**
 * The parsed, compiled form of a policy file and the decisions evaluated against it.
 */
import type { Rate } from '@aegis/guard'

/** HTTP methods a rule may name (upper case, RFC 9110). */
export const POLICY_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
export type PolicyMethod = (typeof POLICY_METHODS)[number]

/** A compiled path pattern: an anchored regular expression (or an exact literal). */
export interface PathPattern {
  /** The pattern as written in the file. */
  source: string
  /** 1-based line of the pattern in its file. */
  line: number
  /** True when the whole path matches (never a substring match). */
  matches(path: string): boolean
}

/** A daily wall-clock window in an IANA time zone, `[start, end)` in minutes since local midnight. */
export interface TimeWindow {
  /** Minutes since local midnight, 0–1439. */
  start: number
  /** Minutes since local midnight, 0–1440 (1440 = `24:00`); may be below `start` (across midnight). */
  end: number
  /** Canonical IANA zone name, e.g. `America/New_York`. */
  timezone: string
  /** For messages: `09:00-18:00 UTC`. */
  text: string
}

/** One rule of an agent's policy. */
export interface PolicyRule {
  /** Position in `rules` (0-based). */
  index: number
  /** 1-based line of the rule in its file. */
  line: number
  service: string
  /** Allowed methods; null = any method. */
  methods: ReadonlySet<string> | null
  /** Allowed paths (any may match); null = any path. */
  paths: readonly PathPattern[] | null
  /** This rule's own budget; null = no limit from this rule. */
  rate: Rate | null
  /** When the rule applies; null = always. */
  window: TimeWindow | null
  /** Budget key for the gate's limiter: unique per agent, rule index and rule content. */
  rateKey: string
}

/** One agent's policy, from one file. */
export interface AgentPolicy {
  agent: string
  file: string
  rules: readonly PolicyRule[]
}

/** The rule that decided a request, for messages and the ledger. */
export interface RuleRef {
  index: number
  file: string
  line: number
  service: string
}

/** The budget a request allowed by a rule must be charged to. */
export interface RuleRate {
  key: string
  rate: Rate
}

/**
 * The outcome of evaluating a request. Evaluation never spends budget: the caller reserves
 * `rate` with its limiter (check and spend in one step) and refunds it if a later check refuses.
 */
export type PolicyDecision =
  | { allowed: true; rule: RuleRef; rate: RuleRate | null; reason: string }
  /** No policy applies to the agent and the default is allow. */
  | { allowed: true; rule: null; rate: null; reason: string }
  | { allowed: false; code: 'policy_denied'; rule: RuleRef | null; reason: string }

/** The request as the policy sees it. */
export interface PolicyRequest {
  service: string
  /** As received (case-sensitive; HTTP methods are upper case). */
  method: string
  /** The canonical path the gate forwards: after `/{service}`, without the query, as sent. */
  path: string
  /** Epoch milliseconds. */
  now: number
}
