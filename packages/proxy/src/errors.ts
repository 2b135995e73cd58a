import { type DeliveryCode, type Refusal, refuse } from '@aegis/guard'
import { BodyTooLargeError } from './upstream/body.js'
import { UnredactableResponseError } from './upstream/coding.js'
import { UpstreamBodyTimeoutError, UpstreamDeadlineError } from './upstream/exchange.js'

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

function causeOf(error: unknown): unknown {
  return error instanceof Error && error.name === 'AbortError' && error.cause !== undefined
    ? error.cause
    : error
}

/**
 * Maps an upstream failure to the refusal the agent sees. Messages are generic: a TLS or socket
 * error can carry addresses and certificate details that are none of the agent's business.
 */
export function upstreamFailure(error: unknown, host: string, signalReason?: unknown): Refusal {
  const cause = signalReason ?? causeOf(error)
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
  return refuse('upstream_unreachable', `${host} could not be reached`)
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
 * deadline is `upstream_timeout` (it was recorded `upstream_unreachable`), anything else stays that.
 */
export function deliveryFailureCode(error: unknown): 'upstream_timeout' | 'upstream_unreachable' {
  return isTimeout(causeOf(error)) ? 'upstream_timeout' : 'upstream_unreachable'
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
