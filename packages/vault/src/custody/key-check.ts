import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { deriveKeySync, KDF } from '../crypto.js'

/** How the custody file proves a rebuilt key: PBKDF2 first, then an HMAC over a fixed label. */
export interface KeyCheck {
  kdf: typeof KDF.name
  iterations: number
  /** Hex, 32 random bytes per split. */
  salt: string
  /** Hex HMAC-SHA-256(PBKDF2(key, salt), "aegis-key-check"). */
  value: string
}

const LABEL = 'aegis-key-check'

/**
 * The value is derived through the vault's own PBKDF2 (210 000 rounds) rather than a bare HMAC of
 * the key: a user may have chosen a weak master key at `init`, and a fast check beside the vault
 * would make guessing it cheaper than the vault's own key-check allows. It costs ~0.2 s per use.
 */
function compute(masterKey: Buffer, salt: Buffer, iterations: number): Buffer {
  // deriveKeySync takes the key as text; a master key is the UTF-8 text `init` or the user chose.
  const derived = deriveKeySync(masterKey.toString('utf8'), salt, iterations)
  try {
    return createHmac('sha256', derived).update(LABEL).digest()
  } finally {
    derived.fill(0)
  }
}

/** A new key check for `masterKey`, under a fresh salt. */
export function createKeyCheck(masterKey: Buffer): KeyCheck {
  const salt = randomBytes(32)
  return {
    kdf: KDF.name,
    iterations: KDF.iterations,
    salt: salt.toString('hex'),
    value: compute(masterKey, salt, KDF.iterations).toString('hex'),
  }
}

/** True when `masterKey` is the key the check was made for (constant-time comparison). */
export function passesKeyCheck(masterKey: Buffer, check: KeyCheck): boolean {
  const expected = Buffer.from(check.value, 'hex')
  const actual = compute(masterKey, Buffer.from(check.salt, 'hex'), check.iterations)
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}
