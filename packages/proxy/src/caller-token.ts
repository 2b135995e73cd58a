import { buildMatcher, type SecretMatcher } from '@aegis/inspect'
import type { LiveAgent } from './snapshot.js'

/** One matcher per agent per snapshot (a new snapshot makes new agent objects). */
const matchers = new WeakMap<LiveAgent, SecretMatcher>()

/**
 * The calling agent's own token as a matcher over its encodings, with and without the `aegis_`
 * prefix (the random part alone is as good as the token: the prefix is public). Used by outbound
 * inspection and by the sanitiser of what is logged and stored.
 */
export function callerTokenMatcher(agent: LiveAgent, token: string): SecretMatcher {
  let matcher = matchers.get(agent)
  if (matcher === undefined) {
    matcher = buildMatcher([
      { value: token, kind: 'agent-token' },
      { value: token.slice('aegis_'.length), kind: 'agent-token' },
    ])
    matchers.set(agent, matcher)
  }
  return matcher
}
