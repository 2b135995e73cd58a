import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import {
  PROBLEM_CONTENT_TYPE,
  problemDocument,
  REFUSAL_STATUS,
  type Refusal,
  refuse,
  retryAfterSeconds,
} from '@aegis/guard'
import { withAllow } from './respond.js'

/** Picks the refusal for a request Node's HTTP parser rejected (bad framing, oversized headers). */
export function parserRefusal(error: Error & { code?: string }): Refusal {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return refuse('headers_too_large', 'Request headers are too large')
  }
  return refuse('bad_request', `Malformed HTTP request (${error.code ?? 'parse error'})`)
}

/** Writes a minimal problem+json response straight to the socket and closes it. */
export function writeRawProblem(socket: Socket, refusal: Refusal, requestId: string): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const status = REFUSAL_STATUS[refusal.code]
  const body = JSON.stringify(problemDocument(refusal, requestId))
  const retryAfter = retryAfterSeconds(refusal)
  const allow = withAllow(status, undefined)?.allow
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      `content-type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-aegis-block: ${refusal.code}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      `request-id: ${requestId}\r\n` +
      'cache-control: no-store\r\n' +
      (retryAfter === undefined ? '' : `retry-after: ${retryAfter}\r\n`) +
      (allow === undefined ? '' : `allow: ${allow}\r\n`) +
      'connection: close\r\n\r\n' +
      body,
  )
}

/**
 * A request line as far as the ledger needs it: a method (any RFC 9110 token: the parser refuses
 * `trace` and `TRACK`, which are still what the agent sent), a target, any `HTTP/x.y` version.
 */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\S{1,2048}) HTTP\/\d\.\d\r?\n/

/** Method and target from the start of a rejected request, when they are readable. */
export function requestLine(raw: Buffer | undefined): { method: string; target: string } {
  const text = raw?.subarray(0, 2048).toString('latin1') ?? ''
  const match = REQUEST_LINE.exec(text)
  return match ? { method: match[1] ?? 'UNKNOWN', target: match[2] ?? '' } : { method: 'UNKNOWN', target: '' }
}
