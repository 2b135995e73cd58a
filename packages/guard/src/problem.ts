/**
 * The refusal vocabulary shared by the gate and the MCP server, and its RFC 9457 problem document.
 */

/** Every status a refusal may carry, by stable code (interface contract §4). */
export const REFUSAL_STATUS = {
  bad_request: 400,
  request_timeout: 408,
  agent_auth_required: 401,
  agent_auth_invalid: 401,
  grant_denied: 403,
  scope_denied: 403,
  policy_denied: 403,
  domain_denied: 403,
  host_denied: 403,
  origin_denied: 403,
  address_denied: 403,
  body_inspection: 403,
  credential_expired: 403,
  service_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  headers_too_large: 431,
  rate_limited: 429,
  upstream_unreachable: 502,
  upstream_encoding_unsupported: 502,
  shutting_down: 503,
  ledger_unavailable: 503,
  rate_limit_unavailable: 503,
  credential_unavailable: 503,
  sealed: 503,
  upstream_timeout: 504,
} as const satisfies Record<string, number>

/** A stable refusal code; it is also sent as the `X-Aegis-Block` response header. */
export type RefusalCode = keyof typeof REFUSAL_STATUS

/** Human titles, one per code (the `title` member of the problem document). */
export const REFUSAL_TITLE: Readonly<Record<RefusalCode, string>> = {
  bad_request: 'Bad request',
  request_timeout: 'Request not received in time',
  agent_auth_required: 'Agent authentication required',
  agent_auth_invalid: 'Agent token not recognised',
  grant_denied: 'Agent not granted this credential',
  scope_denied: 'Method outside the credential scopes',
  policy_denied: 'Refused by policy',
  domain_denied: 'Target not in the credential allowlist',
  host_denied: 'Host name not allowed',
  origin_denied: 'Requests from web pages are refused',
  address_denied: 'Target address not allowed',
  body_inspection: 'Outbound request carries a secret',
  credential_expired: 'Credential expired',
  service_not_found: 'No credential for this service',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  body_too_large: 'Request body too large',
  headers_too_large: 'Request headers too large',
  rate_limited: 'Rate limit exceeded',
  upstream_unreachable: 'Upstream unreachable',
  upstream_encoding_unsupported: 'Upstream response coding not supported',
  shutting_down: 'Gate is shutting down',
  ledger_unavailable: 'Audit ledger unavailable',
  rate_limit_unavailable: 'Shared rate limits unavailable',
  credential_unavailable: 'Credential unavailable',
  sealed: 'Vault is sealed',
  upstream_timeout: 'Upstream timed out',
}

/** The codes answered 429 or 503: the agent may try again later, so each answer says when. */
export type RetryableCode = {
  [C in RefusalCode]: (typeof REFUSAL_STATUS)[C] extends 429 | 503 ? C : never
}[RefusalCode]

/**
 * Seconds to wait before trying again, per 429/503 code, when the refusal itself does not say
 * (`rate_limited` carries its own, from the limiter). Every such answer sends `Retry-After`: a
 * client without one retries at once, which a gate that is down, draining or cut off from its
 * shared budgets can do without. The table must name every such code (the compiler checks).
 */
const RETRY_AFTER_SECONDS: Readonly<Record<RetryableCode, number>> = {
  rate_limited: 1,
  // The Redis client reconnects with a backoff of at most 2 s.
  rate_limit_unavailable: 2,
  // A restart or a ledger write that succeeds again takes seconds.
  shutting_down: 5,
  ledger_unavailable: 5,
  // An operator must act (unseal, repair the row): asking again every second is only load.
  sealed: 30,
  credential_unavailable: 30,
}

function isRetryable(code: RefusalCode): code is RetryableCode {
  return Object.hasOwn(RETRY_AFTER_SECONDS, code)
}

/**
 * The `Retry-After` of a refusal, in whole seconds ≥ 1: its own `retryAfter` member when it has a
 * usable one, else the code's default; undefined for a code that is not answered 429 or 503.
 */
export function retryAfterSeconds(refusal: Refusal): number | undefined {
  if (!isRetryable(refusal.code)) return undefined
  const own = refusal.extra?.retryAfter
  if (typeof own === 'number' && Number.isFinite(own) && own >= 1) return Math.ceil(own)
  return RETRY_AFTER_SECONDS[refusal.code]
}

/**
 * Whether an SDK should retry a refusal by itself, sent as `X-Should-Retry` (honoured by openai,
 * @anthropic-ai/sdk and the other Stainless-generated SDKs, before their status rules): `true`
 * when the same request may pass within seconds without anyone acting (a limit refills, the
 * ledger or Redis comes back, another instance answers after a restart); `false` when it will be
 * refused the same way until someone changes something — the SDKs would otherwise retry the 5xx
 * ones (openai sleeps a `sealed` answer's 30 s Retry-After twice before raising, while the agent
 * could already say the vault is sealed), and a 502 the upstream answered would be sent to it
 * again; `null` says nothing, for an upstream failure the client's own rules treat as it would
 * from the API itself. The table must name every code (the compiler checks).
 */
const SHOULD_RETRY: Readonly<Record<RefusalCode, boolean | null>> = {
  rate_limited: true,
  rate_limit_unavailable: true,
  shutting_down: true,
  ledger_unavailable: true,
  sealed: false,
  credential_unavailable: false,
  bad_request: false,
  agent_auth_required: false,
  agent_auth_invalid: false,
  grant_denied: false,
  scope_denied: false,
  policy_denied: false,
  domain_denied: false,
  host_denied: false,
  origin_denied: false,
  address_denied: false,
  body_inspection: false,
  credential_expired: false,
  service_not_found: false,
  not_found: false,
  method_not_allowed: false,
  body_too_large: false,
  headers_too_large: false,
  upstream_encoding_unsupported: false,
  request_timeout: null,
  upstream_unreachable: null,
  upstream_timeout: null,
}

/** Whether a refusal should be retried by the client on its own (`SHOULD_RETRY`); undefined: no advice. */
export function shouldRetry(code: RefusalCode): boolean | undefined {
  return Object.hasOwn(SHOULD_RETRY, code) ? (SHOULD_RETRY[code] ?? undefined) : undefined
}

/** Prefix of every problem `type`; the full URI is `urn:aegis:problem:<code>`. */
export const PROBLEM_TYPE_PREFIX = 'urn:aegis:problem:'

/** A pipeline refusal. `detail` and `extra` are shown to the agent: never put a secret in them. */
export interface Refusal {
  code: RefusalCode
  detail: string
  /** Extra members for the problem document, e.g. `{ retryAfter: 3 }` or `{ allowed: [...] }`. */
  extra?: Record<string, unknown>
}

/**
 * The `error` extension member: the shape the common SDK families read out of an error body, so the
 * gate's `detail` and `code` reach the agent's exception message (checked in each SDK's source):
 * openai-node builds `"<status> <error.message>"` and ignores every other member (without it a
 * refusal showed as "404 status code (no body)"); @anthropic-ai/sdk reads `error.message` and
 * `error.type`. Both expose `error.code` / `error.type` as properties of the thrown error.
 */
export interface ProblemErrorMember<C extends string = RefusalCode> {
  /** `<detail> (aegis: <code>)`: both in the one string every SDK prints. */
  message: string
  /** The stable code again, where SDKs put an error class (`err.type`). */
  type: C
  code: C
}

/** An RFC 9457 `application/problem+json` document. */
export interface ProblemDocument<C extends string = RefusalCode> {
  type: string
  title: string
  status: number
  detail: string
  code: C
  instance?: string
  error: ProblemErrorMember<C>
  [member: string]: unknown
}

/** Type guard for codes read back from storage or the wire. */
export function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === 'string' && Object.hasOwn(REFUSAL_STATUS, value)
}

/**
 * The codes of a forwarded request that failed while its answer was delivered, decided by the
 * channel rather than a pipeline stage: the agent hung up (the gate), the answer was too large for
 * the channel (MCP). Ledger rows and metrics carry them; no problem document does. One list, so the
 * metrics know every code a ledger row can have (they counted `client_closed` as `other`).
 */
export const DELIVERY_CODES = ['client_closed', 'response_too_large'] as const

export type DeliveryCode = (typeof DELIVERY_CODES)[number]

/** Type guard for a delivery failure code. */
export function isDeliveryCode(value: unknown): value is DeliveryCode {
  return typeof value === 'string' && (DELIVERY_CODES as readonly string[]).includes(value)
}

/** Builds a refusal. */
export function refuse(code: RefusalCode, detail: string, extra?: Record<string, unknown>): Refusal {
  return extra === undefined ? { code, detail } : { code, detail, extra }
}

/**
 * A `rate_limited` refusal: `retryAfter` is whole seconds, at least 1 (the `Retry-After` header
 * carries seconds; 0 would invite an immediate retry), rounded up from `retryAfterMs` so a client
 * that waits that long fits; `retryAfterMs` (a whole number ≥ 1) is the limiter's own wait, which
 * the `Retry-After-Ms` header carries for the SDKs that read it (openai, @anthropic-ai/sdk: a
 * request that fits again in 200 ms is not held a whole second). `limit` names the limit that was
 * hit, when there is one.
 */
export function rateLimited(detail: string, retryAfterMs: number, limit?: string): Refusal {
  const ms = Number.isFinite(retryAfterMs) ? Math.max(1, Math.ceil(retryAfterMs)) : 1000
  const retryAfter = Math.max(1, Math.ceil(ms / 1000))
  const extra = { retryAfter, retryAfterMs: ms }
  return refuse('rate_limited', detail, limit === undefined ? extra : { ...extra, limit })
}

/**
 * The `Retry-After-Ms` of a problem document: its `retryAfterMs` member when it is a whole number
 * from 1 up to its `retryAfter` in ms (never a promise the seconds header does not make), else
 * undefined.
 */
export function retryAfterMilliseconds(problem: ProblemDocument<string>): number | undefined {
  const ms = problem.retryAfterMs
  const seconds = problem.retryAfter
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1) return undefined
  if (typeof seconds !== 'number' || ms > seconds * 1000) return undefined
  return ms
}

/**
 * The problem document for a refusal: `type`, `title`, `status`, `detail`, `code`, optional
 * `instance` (e.g. the request id), the SDK-facing `error` member, then the refusal's `extra`
 * members (which cannot override the standard ones). A 429 or 503 document always has
 * `retryAfter` (`retryAfterSeconds`), the value its `Retry-After` header carries.
 */
export function problemDocument(refusal: Refusal, instance?: string): ProblemDocument {
  const { code } = refusal
  const retryAfter = retryAfterSeconds(refusal)
  const extra = retryAfter === undefined ? refusal.extra : { ...refusal.extra, retryAfter }
  return problemOf(code, REFUSAL_STATUS[code], REFUSAL_TITLE[code], refusal.detail, extra, instance)
}

/**
 * The same document for a code outside the refusal vocabulary: an adapter's own answers before the
 * pipeline runs (the MCP server's `host_denied`, `origin_denied`) or after it (`response_too_large`).
 */
export function problemOf<C extends string>(
  code: C,
  status: number,
  title: string,
  detail: string,
  extra?: Record<string, unknown>,
  instance?: string,
): ProblemDocument<C> {
  return {
    ...extra,
    type: `${PROBLEM_TYPE_PREFIX}${code}`,
    title,
    status,
    detail,
    code,
    ...(instance === undefined ? {} : { instance }),
    error: { message: `${detail} (aegis: ${code})`, type: code, code },
  }
}

/**
 * The media type of every refusal. `charset=utf-8` because @octokit/request decodes a body only
 * when it is `application/json`, `text/*` or says `charset=utf-8`; without it a refusal became
 * "Unknown error" with the problem kept as an ArrayBuffer.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'
