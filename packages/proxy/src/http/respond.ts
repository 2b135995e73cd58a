import type { ServerResponse } from 'node:http'
import { finished, type Readable } from 'node:stream'
import { PROBLEM_CONTENT_TYPE, type ProblemDocument, type Refusal } from '@aegis/guard'

/** Writes an RFC 9457 problem document, with the stable code in `X-Aegis-Block`. */
export function sendProblem(
  res: ServerResponse,
  status: number,
  refusal: Refusal,
  problem: ProblemDocument,
  options: { requestId: string; close?: boolean },
): void {
  const body = JSON.stringify(problem)
  const headers: Record<string, string | number> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'x-aegis-block': refusal.code,
    'x-request-id': options.requestId,
    'cache-control': 'no-store',
  }
  const retryAfter = refusal.extra?.retryAfter
  if (typeof retryAfter === 'number') headers['retry-after'] = retryAfter
  if (options.close) headers.connection = 'close'
  res.writeHead(status, headers)
  res.end(body)
}

/**
 * Streams `body` into `res` with backpressure, counting bytes; resolves with the count once the
 * response is finished. (Plain `pipe` + `finished`: `stream/promises` pipeline builds an
 * AbortController per call, which shows on the hot path.)
 */
export function pump(body: Readable, res: ServerResponse): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length
    })
    body.once('error', (error) => {
      res.destroy(error)
      reject(error)
    })
    finished(res, (error) => {
      if (error) {
        body.destroy()
        reject(error)
      } else resolve(bytes)
    })
    body.pipe(res)
  })
}
