import { type DeliveryCode, type Refusal, refuse } from '@aegis/guard'
import { failureDetail, failureReason } from './failure-reason.js'
import { BodyTooLargeError } from './upstream/body.js'
import { UnredactableResponseError } from './upstream/coding.js'
import { UpstreamBodyTimeoutError, UpstreamDeadlineError } from './upstream/exchange.js'
import { ResponseTooLargeError } from './upstream/expansion.js'

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

function causeOf(error: unknown): unknown {
  return error instanceof Error && error.name === 'AbortError' && error.cause !== undefined
    ? error.cause
    : error
}

/**
 * Maps an upstream failure to the refusal the agent sees. The code says reachability or time; the
 * detail says which (connect, TLS, connection closed, malformed answer — see `failureReason`), in
 * the gate's own words: a TLS or socket error can carry addresses that are none of the agent's
 * business. `answered`: the upstream's response head had arrived (its body then failed).
 */
export function upstreamFailure(error: unknown, host: string, answered = false): Refusal {
  const cause = causeOf(error)
  if (cause instanceof BodyTooLargeError || error instanceof BodyTooLargeError) {
    const limit = cause instanceof BodyTooLargeError ? cause.limit : (error as BodyTooLargeError).limit
    return refuse('body_too_large', `Request body is over the limit of ${limit} bytes`, { limit })
  }
  if (error instanceof UnredactableResponseError) {
    // Not a reachability problem: the upstream answered, in a form that cannot be redacted.
    return refuse(
      'upstream_encoding_unsupported',
      `${host} answered, but ${error.message}; nothing of the response was sent`,
    )
  }
  if (isTimeout(cause)) return refuse('upstream_timeout', `${host} did not answer in time`)
  return refuse('upstream_unreachable', failureDetail(host, failureReason(cause, answered), answered))
}

function isTimeout(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | null)?.code
  return (
    cause instanceof UpstreamDeadlineError ||
    cause instanceof UpstreamBodyTimeoutError ||
    (typeof code === 'string' && TIMEOUT_CODES.has(code))
  )
}

/**
 * The ledger code of a response that failed after its head was sent: a body that paused past the
 * deadline is `upstream_timeout` (it was recorded `upstream_unreachable`), a compressed one cut off
 * for expanding too far `response_too_large`, anything else `upstream_unreachable`.
 */
export function deliveryFailureCode(
  error: unknown,
): 'upstream_timeout' | 'upstream_unreachable' | 'response_too_large' {
  const cause = causeOf(error)
  if (cause instanceof ResponseTooLargeError) return 'response_too_large'
  return isTimeout(cause) ? 'upstream_timeout' : 'upstream_unreachable'
}

/** Whether a response failed because its compressed body expanded past the bound (ExpansionLimit). */
export function isResponseTooLarge(error: unknown): boolean {
  return causeOf(error) instanceof ResponseTooLargeError
}

/**
 * The detail for a response that failed after its head arrived, where the channel still answers
 * with a problem (the MCP tool reads the whole body first): what broke it, as `upstreamFailure` says.
 */
export function deliveryFailureDetail(error: unknown): string {
  const cause = causeOf(error)
  if (cause instanceof ResponseTooLargeError) return cause.message
  if (isTimeout(cause)) return 'The upstream response paused longer than the deadline before it was complete'
  const reason = failureReason(cause, true)
  if (reason.kind === 'malformed') {
    const what = reason.what === null ? '' : ` (${reason.what})`
    return `The upstream response broke off: it was malformed${what}`
  }
  if (reason.kind === 'closed') return 'The upstream closed the connection before its response was complete'
  return 'The upstream response broke off before it was complete'
}

/** Errors that say nothing answers at the address dialled (as opposed to a slow or broken answer). */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
])

/** Whether the upstream's address could not be connected to at all. */
export function isConnectFailure(error: unknown): boolean {
  const code = (causeOf(error) as { code?: unknown } | null)?.code
  return typeof code === 'string' && CONNECT_CODES.has(code)
}

/** What went wrong with an upstream, for a log line (the gate's words; null when nothing is known). */
export function failureNote(error: unknown, answered: boolean): string | null {
  const reason = failureReason(causeOf(error), answered)
  if (reason.kind === 'other') return null
  return reason.what === null ? reason.kind : `${reason.kind}: ${reason.what}`
}

/**
 * Why the audit sink refused a write, for the log: the message of the ledger's own error
 * (`LedgerError`: one line written for operators — a full disk, a read-only folder — never entry
 * data), else null (another sink's error may quote anything).
 */
export function ledgerFailureReason(error: unknown): string | null {
  return error instanceof Error && error.name === 'LedgerError' ? error.message : null
}

/** A short, safe description of an upstream error for the log (codes and names, never payloads). */
export function describeError(error: unknown): string {
  const cause = causeOf(error)
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return typeof code === 'string' ? `${cause.name}:${code}` : cause.name
  }
  return typeof cause
}

/** The ledger code of a forwarded request whose client went away before the whole answer was sent. */
export const CLIENT_CLOSED: DeliveryCode = 'client_closed'
