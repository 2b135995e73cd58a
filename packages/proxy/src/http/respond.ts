import type { IncomingMessage, ServerResponse } from 'node:http'
import { finished, type Readable } from 'node:stream'
import {
  PROBLEM_CONTENT_TYPE,
  type ProblemDocument,
  type Refusal,
  retryAfterMilliseconds,
  retryAfterSeconds,
  shouldRetry,
} from '@aegis/guard'
import { lingerAfterAnswer } from './linger.js'

/**
 * The methods the gate forwards (the `read` and `write` scopes; other methods go out only under
 * `*`): what a 405 answers in `Allow` when its sender named nothing narrower.
 */
export const GATE_METHODS = 'GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE'

/**
 * RFC 9110 §15.5.6: a 405 carries `Allow`. `headers` as given, with `allow` added for a 405 that has
 * none (any refusal may be `method_not_allowed`, an embedder stage's too).
 */
export function withAllow(
  status: number,
  headers: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (status !== 405) return headers
  if (headers !== undefined)
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'allow') return headers
  return { ...headers, allow: GATE_METHODS }
}

/**
 * Writes an RFC 9457 problem document, with the stable code in `X-Aegis-Block`. Every refusal the
 * gate and the MCP HTTP endpoint answer goes through here, so their header sets are the same;
 * `headers` adds the few a code needs (`Allow`, `WWW-Authenticate`). A 405 always has `Allow`
 * (`withAllow`).
 */
export function sendProblem(
  res: ServerResponse,
  status: number,
  refusal: Refusal,
  problem: ProblemDocument,
  options: { requestId: string; close?: boolean; headers?: Readonly<Record<string, string>> },
): void {
  const body = JSON.stringify(problem)
  const headers: Record<string, string | number> = {
    ...withAllow(status, options.headers),
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'x-aegis-block': refusal.code,
    'x-request-id': options.requestId,
    // The same id under the name Anthropic's SDK reads (`request-id`): its errors then show it.
    'request-id': options.requestId,
    'cache-control': 'no-store',
  }
  // Every 429 and 503 document has it (problemDocument); the header carries the same seconds.
  const retryAfter = problem.retryAfter ?? retryAfterSeconds(refusal)
  if (typeof retryAfter === 'number') headers['retry-after'] = retryAfter
  const retryAfterMs = retryAfterMilliseconds(problem)
  if (retryAfterMs !== undefined) headers['retry-after-ms'] = retryAfterMs
  // Whether the SDK should retry by itself (guard `shouldRetry`). Stripe's SDK reads its own name
  // and ignores Retry-After (it backs off 0.5–1 s), so it is told only `false`: told `true` it
  // would spend its retries on a 429 before the limit allows one.
  const retry = shouldRetry(refusal.code)
  if (retry !== undefined) headers['x-should-retry'] = String(retry)
  if (retry === false) headers['stripe-should-retry'] = 'false'
  if (options.close) headers.connection = 'close'
  res.writeHead(status, headers)
  res.end(body)
}

/** How a streamed response ended: the bytes handed to the agent's socket, and why it ended early. */
export interface Pumped {
  bytes: number
  /** Set when the response did not end normally: the body failed, or the agent went away. */
  error?: unknown
  /** The agent closed the connection (the body itself had not failed). */
  clientGone: boolean
}

/**
 * Answers a refused request (`sendProblem`). Its body is never read, so when some of it is still
 * unread (or it was refused for its size) the connection closes after the answer, lingering so
 * that a client still uploading reads the answer instead of a reset; `closing` (the server is
 * draining) closes it too.
 */
export function sendRefusal(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  refusal: Refusal,
  problem: ProblemDocument,
  options: { requestId: string; closing: boolean; headers?: Readonly<Record<string, string>> },
): void {
  const unread = !req.complete || refusal.code === 'body_too_large'
  if (unread) lingerAfterAnswer(req, res)
  sendProblem(res, status, refusal, problem, {
    requestId: options.requestId,
    close: unread || options.closing,
    headers: options.headers,
  })
}

/**
 * Streams `body` into `res` with backpressure, counting bytes; resolves once the response is
 * finished or broken off — with the bytes sent so far either way, which the ledger records. (Plain
 * `pipe` + `finished`: `stream/promises` pipeline builds an AbortController per call, which shows on
 * the hot path.)
 */
export function pump(body: Readable, res: ServerResponse): Promise<Pumped> {
  return new Promise((resolve) => {
    let bytes = 0
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length
    })
    body.once('error', (error) => {
      res.destroy(error)
      resolve({ bytes, error, clientGone: false })
    })
    finished(res, (error) => {
      if (error) {
        body.destroy()
        resolve({ bytes, error, clientGone: true })
      } else resolve({ bytes, clientGone: false })
    })
    body.pipe(res)
  })
}
