import { type Refusal, refuse } from '@aegis/guard'
import { decideForAgent, type PolicySet } from '@aegis/policy'
import { ANONYMOUS_UNDER_POLICY } from '../anonymous.js'
import type { RequestContext } from '../context.js'
import type { Stage } from '../pipeline.js'
import type { PolicyMode, StageResult } from '../types.js'
import type { Budgets } from './budget.js'

export type { PolicyMode }

export interface PolicyStageOptions {
  mode: PolicyMode
  /** The current policy set (hot-reloaded by the caller). */
  current: () => PolicySet
  /** What an agent with no policy file may do. */
  defaultPolicy: 'allow' | 'deny'
}

/**
 * The agent's policy: the first rule that matches service, method and path (and whose time window
 * is open) allows, with its own rate limit. In dry-run mode a refusal is recorded on the request
 * instead of ending it. A request without an agent has no policy to be held to, so it is refused
 * (`agent_auth_required`) — dropping the token must not escape every policy (see `anonymous.ts`).
 */
export function policy(budgets: Budgets, options: PolicyStageOptions): Stage {
  const decide = { defaultPolicy: options.defaultPolicy }
  const judged = (ctx: RequestContext, refusal: StageResult) =>
    refusal === undefined ? undefined : verdict(options.mode, ctx, refusal)
  return (ctx) => {
    if (options.mode === 'off' || ctx.service === null) return undefined
    if (ctx.agent === null) return verdict(options.mode, ctx, ANONYMOUS_UNDER_POLICY)
    const decision = decideForAgent(
      options.current(),
      ctx.agent.name,
      { service: ctx.service, method: ctx.req.method, path: ctx.path, now: ctx.now },
      decide,
    )
    if (!decision.allowed) {
      return verdict(
        options.mode,
        ctx,
        refuse(
          'policy_denied',
          withoutDirectories(decision.reason),
          decision.rule ? { rule: ruleName(decision.rule) } : undefined,
        ),
      )
    }
    if (decision.rate === null) return undefined
    // Checked and spent in one step; given back if a later stage refuses. The rule's key names the
    // agent by name; the agent's id is added, as names repeat across vaults (staging and production
    // each have a research-bot) and a shared store (Redis) would otherwise pool their budgets.
    const spent = budgets.take(
      ctx,
      'policy',
      `${decision.rate.key}:${ctx.agent.id}`,
      decision.rate.rate,
      `Policy rule ${ruleName(decision.rule)} allows ${decision.rate.rate.text}`,
    )
    return spent instanceof Promise ? spent.then((refusal) => judged(ctx, refusal)) : judged(ctx, spent)
  }
}

/** Enforce: the refusal ends the request. Dry-run: it is recorded on the request, which goes on. */
function verdict(mode: PolicyMode, ctx: RequestContext, refusal: Refusal): Refusal | undefined {
  if (mode !== 'dry-run') return refusal
  ctx.dryRun ??= refusal
  return undefined
}

function ruleName(rule: { file: string; line: number; index: number }): string {
  const file = rule.file.split(/[\\/]/).pop() ?? rule.file
  return `${file}:${rule.line} (rules[${rule.index}])`
}

/** Policy file paths shown to the agent by file name only: the server's layout is not its business. */
function withoutDirectories(reason: string): string {
  return reason.replace(/(?:[A-Za-z]:)?(?:[\\/][^\s\\/:,]+)+[\\/]([^\s\\/:,]+\.ya?ml)/g, '$1')
}
