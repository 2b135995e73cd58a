import { agentTokenKey, isAgentTokenShape } from '@aegis/guard'
import { buildMatcher, type SecretInput, type SecretMatcher } from '@aegis/inspect'
import type { RequestContext } from './context.js'
import { type LiveAgent, type Snapshot, secretInputsOf } from './snapshot.js'

/**
 * Up to this many patterns in all, a request's secrets and its caller's token share one matcher:
 * it is built once per agent and snapshot (about 65 µs per secret, so at most ~1.5 ms), and a
 * body is then swept once instead of twice (POST 16 KiB: ~6 µs less). Past it, the two matchers
 * stay apart, so a large vault is never compiled again for every agent.
 */
const JOINED_PATTERNS = 128

interface CallerMatchers {
  /** The snapshot matcher these were built against. */
  readonly of: SecretMatcher
  readonly matchers: readonly SecretMatcher[]
}

/** One entry per agent per snapshot (a new snapshot makes new agent objects). */
const cache = new WeakMap<LiveAgent, CallerMatchers>()

/** The calling agent's own token, with and without the `aegis_` prefix (the prefix is public). */
function tokenInputs(token: string): SecretInput[] {
  return [
    { value: token, kind: 'agent-token' },
    { value: token.slice('aegis_'.length), kind: 'agent-token' },
  ]
}

/**
 * What to search a request for: every secret of the vault and, once its token names a known
 * agent, that agent's own token, in every encoding. One matcher over both when they are few
 * patterns, else the vault's matcher and then the token's. The first matcher is the one to run
 * the credential format scan with (`inspectOutbound` options); the others need not repeat it.
 * Used by outbound inspection and by the sanitiser of what is logged and stored (`loggable.ts`),
 * which may run before the identity stage (a refused path): the agent is then looked up as
 * identity would.
 */
export function requestMatchers(ctx: RequestContext): readonly SecretMatcher[] {
  const token = ctx.req.agentToken
  if (token === null) return [ctx.snapshot.matcher]
  // Identity verified it (the usual case) …
  if (ctx.agent !== null) return callerMatchers(ctx.snapshot, ctx.agent, token)
  // … or it has not run yet: the lookup identity would make.
  if (!isAgentTokenShape(token)) return [ctx.snapshot.matcher]
  const agent = ctx.snapshot.agentsByHash.get(agentTokenKey(token))
  return agent === undefined ? [ctx.snapshot.matcher] : callerMatchers(ctx.snapshot, agent, token)
}

function callerMatchers(snapshot: Snapshot, agent: LiveAgent, token: string): readonly SecretMatcher[] {
  const cached = cache.get(agent)
  if (cached !== undefined && cached.of === snapshot.matcher) return cached.matchers
  // The token's own matcher is small (14 patterns or so): built first, to count its patterns.
  const tokens = tokenInputs(token)
  const own = buildMatcher(tokens)
  const inputs = secretInputsOf(snapshot.matcher)
  const matchers =
    inputs !== undefined && snapshot.matcher.patternCount + own.patternCount <= JOINED_PATTERNS
      ? [buildMatcher([...inputs, ...tokens])]
      : [snapshot.matcher, own]
  cache.set(agent, { of: snapshot.matcher, matchers })
  return matchers
}
