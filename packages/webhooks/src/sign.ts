import { createHmac } from 'node:crypto'

export interface SignInput {
  /** HMAC key (`signingKey(secret)`). */
  key: Buffer
  /** Event id: `webhook-id`, `X-Aegis-Delivery`'s event, stable across retries. */
  id: string
  type: string
  /** The attempt's time. */
  now: Date
  /** The exact bytes sent. */
  body: Buffer
}

/**
 * Both signature schemes on one request: the brief's GitHub-compatible `X-Aegis-Signature`
 * (no timestamp, so replayable) and Standard Webhooks' `webhook-*` (id and timestamp are signed,
 * so a receiver can refuse replays and de-duplicate retries on `webhook-id`).
 */
export function signatureHeaders(input: SignInput): Record<string, string> {
  const { key, id, body } = input
  const timestamp = String(Math.floor(input.now.getTime() / 1000))
  const hex = createHmac('sha256', key).update(body).digest('hex')
  const v1 = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')
  return {
    'x-aegis-signature': `sha256=${hex}`,
    'x-aegis-event': input.type,
    'x-aegis-delivery': id,
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${v1}`,
  }
}
