import { randomBytes } from 'node:crypto'

/** The Standard Webhooks secret prefix: what follows is base64 of the key bytes. */
export const SECRET_PREFIX = 'whsec_'
/** Below this many key bytes a signing secret is refused (HMAC-SHA256 wants ≥ its 32-byte output; 16 is the floor). */
export const MIN_KEY_BYTES = 16

/** A new `whsec_<base64(32 random bytes)>` secret. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * The HMAC key of a secret, as the standardwebhooks library reads it: `whsec_…` is base64 of the
 * key; any other string is the key's UTF-8 bytes (receivers use `new Webhook(secret, { format:
 * 'raw' })`, or pass `Buffer.from(secret)` when the secret is not ASCII). Both signatures use
 * these bytes. Throws an Error saying what is wrong, never quoting the secret.
 */
export function signingKey(secret: string): Buffer {
  if (secret.startsWith(SECRET_PREFIX)) {
    const encoded = secret.slice(SECRET_PREFIX.length)
    if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
      throw new Error(`a ${SECRET_PREFIX} secret must be followed by base64`)
    }
    const key = Buffer.from(encoded, 'base64')
    if (key.length < MIN_KEY_BYTES)
      throw new Error(`a ${SECRET_PREFIX} secret must hold at least ${MIN_KEY_BYTES} bytes`)
    return key
  }
  const key = Buffer.from(secret, 'utf8')
  if (key.length < MIN_KEY_BYTES)
    throw new Error(`a signing secret must be at least ${MIN_KEY_BYTES} bytes long`)
  if (/[\s\p{Cc}]/u.test(secret))
    throw new Error('a signing secret must not contain spaces or control characters')
  return key
}
