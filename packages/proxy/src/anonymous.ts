import { type Refusal, refuse } from '@aegis/guard'
import type { PolicyMode } from './types.js'

/**
 * What happens to a request without an agent token. Policies are per agent, so an anonymous
 * request has none to be held to: while policies are enforced, dropping the token must not escape
 * them (issue 11: with `policy_default: deny` and auth off, the request without `X-Aegis-Agent`
 * was forwarded and the same one with the token refused). So enforced policies imply agent auth;
 * in dry-run the anonymous request is forwarded and recorded as what enforcement would do.
 */
export type AnonymousAccess =
  /** `requireAgentAuth`: refused, `agent_auth_required`. */
  | 'auth-required'
  /** Policies enforced: refused, `agent_auth_required`. */
  | 'policy-refuses'
  /** Policies in dry-run: forwarded, the ledger row records `agent_auth_required` as its dry run. */
  | 'policy-records'
  /** Neither: forwarded, with no grant or policy to limit it. */
  | 'open'

export interface AnonymousAccessOptions {
  requireAgentAuth?: boolean
  /** Present when policies are configured (a policies directory, or `policy_default: deny`). */
  policies?: { mode: PolicyMode }
}

export function anonymousAccess(options: AnonymousAccessOptions): AnonymousAccess {
  if (options.requireAgentAuth === true) return 'auth-required'
  if (options.policies?.mode === 'enforce') return 'policy-refuses'
  if (options.policies?.mode === 'dry-run') return 'policy-records'
  return 'open'
}

/** One line for the start-up log: which rule applies to requests without an agent token. */
export function describeAnonymousAccess(access: AnonymousAccess): string {
  switch (access) {
    case 'auth-required':
      return 'Requests without an agent token are refused (agent_auth_required): agent authentication is required'
    case 'policy-refuses':
      return 'Requests without an agent token are refused (agent_auth_required): policies are enforced, and an anonymous request has no policy to be held to'
    case 'policy-records':
      return 'Requests without an agent token are forwarded and recorded as dry-run agent_auth_required: policies are in dry-run; in enforce mode they would be refused'
    case 'open':
      return 'Requests without an agent token are forwarded with any credential: agent authentication is off and no policies are enforced'
  }
}

/** The refusal an anonymous request gets (or, in dry-run, records) while policies apply. */
export const ANONYMOUS_UNDER_POLICY: Refusal = refuse(
  'agent_auth_required',
  'Policies are enforced on this gate: send your agent token in X-Aegis-Agent',
)
