import { lookup as dnsLookup } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import { type AllowList, addressVerdict } from '@aegis/guard'
import type { EventPayload } from './events.js'
import type { AttemptOutcome } from './outbox.js'
import { retryAfterMs } from './schedule.js'
import { signatureHeaders } from './sign.js'

/** Per-attempt limit, connection to last byte (phase2-notes §1.3). */
export const ATTEMPT_TIMEOUT_MS = 15_000
/** A receiver's answer is read only to free the socket; nothing of it is kept. */
const MAX_RESPONSE_BYTES = 64 * 1024

export interface AttemptOptions {
  url: string
  /** HMAC key (`signingKey(secret)`). */
  key: Buffer
  payload: EventPayload
  /** Private addresses allowed as webhook targets (the gate's upstream allow list, or the webhook one). */
  allowPrivate?: AllowList
  timeoutMs?: number
  now?: () => number
  /** For tests and custom resolvers; default `dns.promises.lookup`. */
  lookup?: (host: string) => Promise<{ address: string; family: number }[]>
}

/** Why a URL may not be dialled: its scheme, or an address the private-address guard refuses. */
export class WebhookAddressError extends Error {}

/**
 * Resolves the URL's host once and checks every answer with the guard (as the gate does for
 * upstreams); the connection then dials exactly the checked address, so a second DNS answer
 * cannot swap in a private one.
 */
async function checkedAddress(
  url: URL,
  options: AttemptOptions,
): Promise<{ address: string; family: number }> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  const answers =
    isIP(host) !== 0
      ? [{ address: host, family: isIP(host) }]
      : await (options.lookup ?? ((h: string) => dnsLookup(h, { all: true })))(host)
  if (answers.length === 0) throw new WebhookAddressError(`${url.hostname} has no address`)
  for (const answer of answers) {
    const verdict = addressVerdict(answer.address, options.allowPrivate)
    if (verdict !== null) {
      throw new WebhookAddressError(
        `${url.hostname} resolves to a ${verdict} address (${answer.address}), not allowed`,
      )
    }
  }
  return answers[0] as { address: string; family: number }
}

/** What a bare system error code means, for a user reading `webhook test` or the deliveries. */
const NETWORK_FAILURES: Readonly<Record<string, string>> = {
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved now (DNS)',
  ECONNREFUSED: 'the connection was refused (nothing listens on that port)',
  ECONNRESET: 'the connection was reset by the receiver',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  EPIPE: 'the receiver closed the connection',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain ends in an untrusted self-signed CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its TLS certificate is not signed by a trusted CA',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is not valid for this host name',
}

/** `host: what happened (CODE)`: the code is kept for searches, the words say what it means. */
function networkFailure(code: string | undefined, url: URL): string {
  if (code === undefined) return `${url.hostname}: connection failed`
  const meaning = NETWORK_FAILURES[code]
  return meaning === undefined
    ? `${url.hostname}: connection failed (${code})`
    : `${url.hostname}: ${meaning} (${code})`
}

/** `work`, or a rejection as soon as `signal` aborts (the work itself is left to finish unread). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    if (signal.aborted) onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * One signed POST. Redirects are not followed (a 3xx is a failure); 2xx delivered; 410 gone;
 * anything else failed, with `Retry-After` read on 429 and 503. Never throws.
 */
export async function attemptDelivery(options: AttemptOptions): Promise<AttemptOutcome> {
  const now = options.now ?? Date.now
  let url: URL
  try {
    url = new URL(options.url)
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new WebhookAddressError('not an http(s) URL')
  } catch (error) {
    return { kind: 'failed', status: null, error: `invalid URL: ${(error as Error).message}` }
  }
  const body = Buffer.from(JSON.stringify(options.payload))
  const timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  try {
    // The lookup runs under the same deadline: a resolver that never answers ends the attempt at
    // timeoutMs (the system resolver's own retries can take far longer than the 20 s lease).
    const dial = await untilAborted(checkedAddress(url, options), controller.signal)
    const headers = {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': 'aegis-webhooks',
      ...signatureHeaders({
        key: options.key,
        id: options.payload.id,
        type: options.payload.type,
        now: new Date(now()),
        body,
      }),
    }
    const client = url.protocol === 'https:' ? https : http
    const { status, retryAfter } = await new Promise<{ status: number; retryAfter: string | undefined }>(
      (resolve, reject) => {
        const request = client.request(
          url,
          {
            method: 'POST',
            headers,
            signal: controller.signal,
            agent: false,
            lookup: (_host, opts, callback) => {
              // Node asks for every address when it may try several families; give it only the checked one.
              if ((opts as { all?: boolean }).all) callback(null, [dial] as never, dial.family)
              else callback(null, dial.address, dial.family)
            },
          },
          (response) => {
            let seen = 0
            response.on('data', (chunk: Buffer) => {
              seen += chunk.length
              if (seen > MAX_RESPONSE_BYTES) response.destroy()
            })
            const done = () =>
              resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] })
            response.on('end', done)
            response.on('close', done)
            response.on('error', done)
          },
        )
        request.on('error', reject)
        request.end(body)
      },
    )
    if (status >= 200 && status < 300) return { kind: 'delivered', status }
    if (status === 410) return { kind: 'gone', status }
    const error =
      status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`
    const wait = status === 429 || status === 503 ? retryAfterMs(retryAfter, now()) : null
    return { kind: 'failed', status, error, retryAfterMs: wait }
  } catch (error) {
    if (error instanceof WebhookAddressError) return { kind: 'failed', status: null, error: error.message }
    if (controller.signal.aborted)
      return { kind: 'failed', status: null, error: `timed out after ${timeoutMs} ms` }
    const code = (error as NodeJS.ErrnoException).code
    return { kind: 'failed', status: null, error: networkFailure(code, url) }
  } finally {
    clearTimeout(timer)
  }
}
