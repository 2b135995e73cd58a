/** What every dashboard response carries, and the one JSON/error writer the routes use. */
import type { ServerResponse } from 'node:http'

/**
 * On every response, API or not. No `Access-Control-*` header is ever set: the dashboard is
 * same-origin only, and a browser then refuses cross-origin reads by default.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
}

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value)
}

/** A JSON answer of the API (never cached). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string | number>> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** What a 429 or 503 says when its thrower did not: a state an operator must change (sealed). */
export const DEFAULT_RETRY_AFTER_S = 30

/**
 * `{"error":{"code","message"}}` with `status`. A 429 or 503 always carries `Retry-After` (whole
 * seconds): `retryAfter` when given, else `DEFAULT_RETRY_AFTER_S`.
 */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  retryAfter?: number,
): void {
  const retry =
    status === 429 || status === 503 ? Math.max(1, Math.ceil(retryAfter ?? DEFAULT_RETRY_AFTER_S)) : null
  sendJson(res, status, { error: { code, message } }, retry === null ? {} : { 'retry-after': retry })
}

/** 204 without a body (API writes). */
export function sendNoContent(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(204, { 'cache-control': 'no-store', ...headers })
  res.end()
}

/** A short plain-text answer (refusals before routing, the missing SPA). */
export function sendText(res: ServerResponse, status: number, text: string): void {
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  }
  if (status === 429 || status === 503) headers['retry-after'] = DEFAULT_RETRY_AFTER_S
  res.writeHead(status, headers)
  res.end(text)
}

/** Thrown by a route: turned into `sendError(status, code, message, retryAfter)`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds, for a 429 or 503 (`Retry-After`); the default when not given. */
    readonly retryAfter?: number,
  ) {
    super(message)
  }
}

/** A 405: the methods the path does serve go out in `Allow`, as RFC 9110 §15.5.6 requires. */
export class MethodNotAllowedError extends ApiError {
  constructor(
    method: string,
    path: string,
    readonly allow: readonly string[],
  ) {
    super(405, 'method_not_allowed', `${method} is not allowed on ${path}`)
  }
}
