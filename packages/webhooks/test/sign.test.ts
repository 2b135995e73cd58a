import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { generateSecret, MIN_KEY_BYTES, SECRET_PREFIX, signatureHeaders, signingKey } from '../src/index.js'

const body = Buffer.from(JSON.stringify({ id: 'msg_1', type: 'blocked_request', data: { count: 1 } }))
const sign = (secret: string, now = new Date()) =>
  signatureHeaders({ key: signingKey(secret), id: 'msg_1', type: 'blocked_request', now, body })

describe('generateSecret', () => {
  it('is whsec_ followed by base64 of 32 random bytes, different every time', () => {
    const a = generateSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(a.slice(SECRET_PREFIX.length), 'base64')).toHaveLength(32)
    expect(generateSecret()).not.toBe(a)
  })
})

describe('signatureHeaders', () => {
  it('a generated secret verifies with standardwebhooks as given (whsec_ = base64 key)', () => {
    const secret = generateSecret()
    const headers = sign(secret)
    expect(new Webhook(secret).verify(body.toString(), headers)).toEqual(JSON.parse(body.toString()))
  })

  it('a user-supplied ASCII secret verifies with format raw (its UTF-8 bytes are the key)', () => {
    const secret = 'your-hmac-signing-secret'
    expect(() => new Webhook(secret, { format: 'raw' }).verify(body.toString(), sign(secret))).not.toThrow()
  })

  it('a non-ASCII secret: the key is its UTF-8 bytes (receivers pass Buffer.from(secret))', () => {
    const secret = 'geheimes-schlüssel-wört-€€'
    const headers = sign(secret)
    expect(() =>
      new Webhook(new Uint8Array(Buffer.from(secret, 'utf8')), { format: 'raw' }).verify(
        body.toString(),
        headers,
      ),
    ).not.toThrow()
  })

  it('X-Aegis-Signature is sha256=<hex HMAC-SHA256(key, raw body)>, GitHub style', () => {
    const secret = 'your-hmac-signing-secret'
    const headers = sign(secret)
    expect(headers['x-aegis-signature']).toBe(
      `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    )
    const generated = generateSecret()
    const key = Buffer.from(generated.slice(SECRET_PREFIX.length), 'base64')
    expect(sign(generated)['x-aegis-signature']).toBe(
      `sha256=${createHmac('sha256', key).update(body).digest('hex')}`,
    )
  })

  it('carries the event, the delivery (= event id) and the Standard Webhooks trio', () => {
    const headers = sign(generateSecret(), new Date('2026-12-01T12:00:00.900Z'))
    expect(headers['x-aegis-event']).toBe('blocked_request')
    expect(headers['x-aegis-delivery']).toBe('msg_1')
    expect(headers['webhook-id']).toBe('msg_1')
    expect(headers['webhook-timestamp']).toBe(String(Date.parse('2026-12-01T12:00:00Z') / 1000))
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
  })

  it.each([
    ['another secret', (h: Record<string, string>) => ({ ...h }), 'whsec_other'],
    ['a changed body', (h: Record<string, string>) => h, 'body'],
    ['a replayed id', (h: Record<string, string>) => ({ ...h, 'webhook-id': 'msg_2' }), null],
    [
      'a moved timestamp',
      (h: Record<string, string>) => ({
        ...h,
        'webhook-timestamp': String(Number(h['webhook-timestamp']) - 1),
      }),
      null,
    ],
    ['a stale timestamp (replay after 5 min)', (h: Record<string, string>) => h, 'stale'],
  ])('a receiver refuses %s', (_name, change, variant) => {
    const secret = generateSecret()
    const now = variant === 'stale' ? new Date(Date.now() - 10 * 60_000) : new Date()
    const headers = change(sign(secret, now))
    const verifier = new Webhook(variant === 'whsec_other' ? generateSecret() : secret)
    const payload = variant === 'body' ? body.toString().replace('1}', '2}') : body.toString()
    expect(() => verifier.verify(payload, headers)).toThrow()
  })
})

describe('signingKey', () => {
  it.each([
    ['too short', 'short', `at least ${MIN_KEY_BYTES} bytes`],
    ['whsec_ with non-base64', 'whsec_not base64!!', 'followed by base64'],
    [
      'whsec_ with too few bytes',
      `whsec_${Buffer.alloc(8).toString('base64')}`,
      `at least ${MIN_KEY_BYTES} bytes`,
    ],
    ['a control character', 'abcdefghijklmnop\nq', 'control characters'],
    ['a space', 'abcdefgh ijklmnopq', 'spaces'],
  ])('refuses %s without quoting it', (_name, secret, message) => {
    let error: Error | undefined
    try {
      signingKey(secret)
    } catch (e) {
      error = e as Error
    }
    expect(error?.message).toContain(message)
    expect(error?.message).not.toContain(secret)
  })
})
