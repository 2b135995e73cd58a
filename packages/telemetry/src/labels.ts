import { isDeliveryCode, isRefusalCode } from '@aegis/guard'

/** Requests for a service no configured credential serves (or none named): never the raw segment. */
export const UNKNOWN_SERVICE = '_unknown'
/** Requests without a registered agent, when the agent label is on. */
export const ANONYMOUS_AGENT = '_anonymous'

const VERBS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'] as const
const METHOD_LABEL = new Map<string, string>(VERBS.map((verb) => [verb, verb]))

/** The 9 standard verbs as they are (methods are case-sensitive), anything else `OTHER`. */
export function methodLabel(method: string): string {
  return METHOD_LABEL.get(method) ?? 'OTHER'
}

/**
 * `ok`, a problem code or a delivery failure code (both fixed lists, the ledger's codes), or `other`
 * for anything an embedder invented.
 */
export function codeLabel(code: string | null): string {
  if (code === null) return 'ok'
  return isRefusalCode(code) || isDeliveryCode(code) ? code : 'other'
}

export const DECISIONS = ['allowed', 'blocked', 'failed'] as const
export const DECISION_INDEX: Readonly<Record<(typeof DECISIONS)[number], number>> = {
  allowed: 0,
  blocked: 1,
  failed: 2,
}

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

/**
 * Index into `STATUS_CLASSES`, or -1 below 100. A status from 600 to 999 (Node's client takes any
 * three digits) is `5xx`: RFC 9110 §15 tells a client to treat an invalid status as a server error,
 * and left out, a forwarded answer (in the ledger with its status) was missing from the counts.
 */
export function statusClassIndex(status: number): number {
  const index = Math.floor(status / 100) - 1
  if (index < 0) return -1
  return Math.min(index, STATUS_CLASSES.length - 1)
}

export const RATE_LIMIT_SCOPES = ['agent', 'credential', 'policy', 'gate'] as const
