import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { addressVerdict, INTERNAL_SERVICE, PROBLEM_CONTENT_TYPE, problemOf } from '@aegis/guard'
import type { Logger } from '../logger.js'
import type { MetricsExposition } from '../observer.js'

const PREFIX = `/${INTERNAL_SERVICE}`

/**
 * Whether a request target is in the gate's own namespace: first segment `_aegis`, exactly as
 * `splitGatePath` reads it (it never decodes the service segment, and `%` is not allowed in one, so
 * `/%5Faegis/…` is a malformed service, not this namespace). Such a request is the gate's to
 * answer: it never reaches service lookup, a credential or the ledger.
 */
export function isInternalTarget(url: string): boolean {
  if (!url.startsWith(PREFIX)) return false
  const next = url.charCodeAt(PREFIX.length)
  // End, `/` or `?`.
  return Number.isNaN(next) || next === 0x2f || next === 0x3f
}

/** The path of an internal target without its query. */
function internalPath(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** A bound address (`server.address().address`) that only this machine can reach. */
export function isLoopbackAddress(address: string): boolean {
  const verdict = addressVerdict(address)
  return verdict === 'loopback' || verdict === 'ipv4-mapped:loopback'
}

export interface InternalRoutesOptions {
  metrics: MetricsExposition | null
  /** `observability.metrics_token`: when set, every scrape must carry it as a Bearer token. */
  token: string | null
  /** Whether the gate listens on a loopback address only (false when embedded through `handle`). */
  loopbackOnly: () => boolean
  logger: Logger
}

/** Serves `/_aegis/*` other than health: the metrics exposition, and a 404 for anything else. */
export class InternalRoutes {
  readonly #metrics: MetricsExposition | null
  readonly #tokenDigest: Buffer | null
  readonly #loopbackOnly: () => boolean
  readonly #logger: Logger

  constructor(options: InternalRoutesOptions) {
    this.#metrics = options.metrics
    this.#tokenDigest = options.token === null ? null : digest(options.token)
    this.#loopbackOnly = options.loopbackOnly
    this.#logger = options.logger
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    const path = internalPath(req.url ?? '')
    if (path !== `${PREFIX}/metrics` || this.#metrics === null) {
      // Same answer whether metrics are off or the path is unknown: nothing to probe for.
      sendGateProblem(res, 404, 'not_found', 'Not found', `No gate endpoint at ${PREFIX}/…`)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      sendGateProblem(res, 405, 'method_not_allowed', 'Method not allowed', 'Metrics are read with GET')
      return
    }
    if (!this.#authorised(req, res)) return
    const metrics = this.#metrics
    const head = req.method === 'HEAD'
    metrics.render().then(
      (text) => {
        if (res.destroyed) return
        res.writeHead(200, {
          'content-type': metrics.contentType,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        })
        res.end(head ? undefined : text)
      },
      (error: unknown) => {
        this.#logger.error({ err: error instanceof Error ? error.message : String(error) }, 'metrics failed')
        if (!res.headersSent)
          sendGateProblem(
            res,
            500,
            'metrics_unavailable',
            'Metrics unavailable',
            'Metrics could not be collected',
          )
      },
    )
  }

  /**
   * With a token configured, every scrape presents it (compared in constant time over SHA-256
   * digests, so neither its value nor its length leaks through timing). Without one, only a gate
   * bound to loopback serves metrics: on any other address they would be open to the network.
   */
  #authorised(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.#tokenDigest === null) {
      if (this.#loopbackOnly()) return true
      sendGateProblem(
        res,
        403,
        'metrics_token_required',
        'Metrics token required',
        'The gate listens on a non-loopback address: /_aegis/metrics needs observability.metrics_token',
      )
      return false
    }
    const presented = bearer(req.headers.authorization)
    if (presented !== null && timingSafeEqual(digest(presented), this.#tokenDigest)) return true
    res.setHeader('www-authenticate', 'Bearer realm="aegis-metrics"')
    sendGateProblem(
      res,
      401,
      'metrics_unauthorized',
      'Metrics token missing or wrong',
      'Send Authorization: Bearer <metrics token>',
    )
    return false
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function bearer(header: string | undefined): string | null {
  if (header === undefined) return null
  const match = /^Bearer +(\S+) *$/i.exec(header)
  return match?.[1] ?? null
}

/** A problem document for the gate's own endpoints (not a pipeline refusal: no `X-Aegis-Block`). */
function sendGateProblem(
  res: ServerResponse,
  status: number,
  code: string,
  title: string,
  detail: string,
): void {
  const body = JSON.stringify(problemOf(code, status, title, detail))
  res.writeHead(status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  })
  res.end(body)
}
