import { buildMatcher, type SecretInput, type SecretMatcher } from '@aegis/inspect'
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
 * What to search a request from `agent` (holding `token`) for: every secret of the snapshot and
 * the agent's own token, in every encoding. One matcher over both when they are few patterns, else
 * the snapshot's matcher and then the token's. The first matcher is the one to run the credential
 * format scan with (`inspectOutbound` options); the others need not repeat it. Used by outbound
 * inspection and by the sanitiser of what is logged and stored.
 */
export function callerMatchers(
  snapshot: Snapshot,
  agent: LiveAgent,
  token: string,
): readonly SecretMatcher[] {
  const cached = cache.get(agent)
  if (cached !== undefined && cached.of === snapshot.matcher) return cached.matchers
  const own = buildMatcher(tokenInputs(token))
  const inputs = secretInputsOf(snapshot.matcher)
  const matchers =
    inputs !== undefined && snapshot.matcher.patternCount + own.patternCount <= JOINED_PATTERNS
      ? [buildMatcher([...inputs, ...tokenInputs(token)])]
      : [snapshot.matcher, own]
  cache.set(agent, { of: snapshot.matcher, matchers })
  return matchers
}
