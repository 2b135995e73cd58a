import { MAX_RESPONSE_HEADER_SIZE } from './upstream/dispatcher.js'

/**
 * Why an exchange with an upstream failed, from undici's and Node's error classes and codes: the
 * upstream could not be connected to, the TLS handshake failed, it closed the connection (before or
 * during its answer), or it answered in a form HTTP/1.1 does not allow. Every phrase is the gate's
 * own words (or llhttp's fixed reason text): never an address, certificate field or payload byte.
 */
export type FailureKind = 'connect' | 'tls' | 'closed' | 'malformed' | 'headers_too_large' | 'other'

export interface FailureReason {
  kind: FailureKind
  /** What went wrong, as a phrase without the host (e.g. `invalid Content-Length`); null if unknown. */
  what: string | null
}

const CONNECT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
}

const CLOSED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET'])

/** OpenSSL certificate verification codes (X509_V_ERR_* without the prefix), and Node's own. */
const CERTIFICATE =
  /^(?:ERR_TLS_CERT_\w+|\w*CERT\w*|UNABLE_TO_\w+|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED|HOSTNAME_MISMATCH)$/

/** llhttp's reason text, e.g. `Invalid character in Content-Length` (fixed strings, never data). */
const PARSER_REASON = /\(([A-Za-z0-9 ,.'/_-]{1,100})\)$/

export function failureReason(error: unknown, answered: boolean): FailureReason {
  if (!(error instanceof Error)) return { kind: 'other', what: null }
  const code = (error as { code?: unknown }).code
  const name = error.name
  if (name === 'HTTPParserError') {
    const reason = PARSER_REASON.exec(error.message)?.[1]
    return { kind: 'malformed', what: reason === undefined ? null : lowerFirst(reason) }
  }
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    return {
      kind: 'headers_too_large',
      what: `response headers over the limit of ${MAX_RESPONSE_HEADER_SIZE} bytes`,
    }
  }
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    // Before the head, undici reports any parser error after a Content-Length header this way
    // (a second Content-Length, one beside Transfer-Encoding); after it, the body's length was off.
    return {
      kind: 'malformed',
      what: answered
        ? 'the body did not match its Content-Length'
        : 'an invalid or conflicting Content-Length',
    }
  }
  if (code === 'UND_ERR_SOCKET' && (error.message === 'bad response' || error.message === 'bad upgrade')) {
    // undici's words for a `100 Continue` it did not ask for (skipped where `skipUnsolicitedContinue`
    // could teach its parser), and an upgrade nobody requested.
    return {
      kind: 'malformed',
      what:
        error.message === 'bad response' ? 'an unexpected 100 Continue' : 'an unrequested protocol upgrade',
    }
  }
  if (typeof code !== 'string') return { kind: 'other', what: null }
  const connect = CONNECT[code]
  if (connect !== undefined) return { kind: 'connect', what: connect }
  if (CERTIFICATE.test(code)) return { kind: 'tls', what: `certificate not accepted: ${code}` }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return { kind: 'tls', what: `handshake failed: ${code}` }
  }
  if (CLOSED.has(code)) return { kind: 'closed', what: answered ? 'mid-answer' : 'before answering' }
  return { kind: 'other', what: null }
}

/** The problem detail for an upstream that failed before anything of its answer reached the agent. */
export function failureDetail(host: string, reason: FailureReason, answered: boolean): string {
  const what = reason.what === null ? '' : ` (${reason.what})`
  switch (reason.kind) {
    case 'connect':
      return `${host} could not be reached${what}`
    case 'tls':
      return `The TLS connection to ${host} failed${what}`
    case 'closed':
      return answered
        ? `${host} closed the connection before its answer was complete`
        : `${host} closed the connection without answering`
    case 'malformed':
      return `${host} answered with a malformed response${what}`
    case 'headers_too_large':
      return `${host} answered with ${reason.what ?? 'response headers over the limit'}`
    default:
      return `The exchange with ${host} failed`
  }
}

function lowerFirst(text: string): string {
  // `Invalid character in Content-Length` → `invalid …`; an acronym (`CR`, `HTTP/`) stays.
  return /^[A-Z][a-z]/.test(text) ? text[0]?.toLowerCase() + text.slice(1) : text
}
