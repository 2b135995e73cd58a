import { hash, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'

/**
 * Operator (RBAC) user tokens, after GitHub's 2021 token format (phase2-notes §4.3):
 *
 *   aegis_user_<id: 8 base62>_<secret: 43 base62><checksum: 6 base62>      69 characters
 *
 * - the `aegis_user_` prefix makes the kind obvious to a person and to a secret scanner;
 * - `secret` is 32 bytes from crypto.randomBytes (256 bits) as a base62 number (62^43 > 2^256);
 * - `checksum` is CRC32 of everything before it, base62: a mistyped or truncated token is refused
 *   offline, before any lookup, and a scanner can reject random look-alikes;
 * - `id` is random and public, so a log line or a list can name a token without holding it.
 *
 * Here, not in the access package, so the gate's inspector and anything else without a database
 * can recognise the format. Stores keep only `hashUserToken(token)`.
 */

/** Every user token starts with this. */
export const USER_TOKEN_PREFIX = 'aegis_user_'

/** For gitleaks / trufflehog rules: the exact shape (the checksum still has to be verified). */
export const USER_TOKEN_PATTERN = /^aegis_user_[0-9A-Za-z]{8}_[0-9A-Za-z]{49}$/

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const ID_LENGTH = 8
const SECRET_BYTES = 32
const SECRET_LENGTH = 43
const CHECKSUM_LENGTH = 6

/** `n` in base62, left-padded with '0' to `width` characters. */
function base62(n: bigint, width: number): string {
  let out = ''
  let rest = n
  while (rest > 0n) {
    out = ALPHABET[Number(rest % 62n)] + out
    rest /= 62n
  }
  return out.padStart(width, '0')
}

function checksumOf(body: string): string {
  return base62(BigInt(crc32(body)), CHECKSUM_LENGTH)
}

/** A new user token. Show it once; store only `hashUserToken(token)`. */
export function generateUserToken(): string {
  // 8 random base62 characters for the public id (rejection-free: 6 bits per byte, modulo bias is
  // irrelevant for an id that is not a secret).
  const id = [...randomBytes(ID_LENGTH)].map((b) => ALPHABET[b % 62]).join('')
  const secret = base62(BigInt(`0x${randomBytes(SECRET_BYTES).toString('hex')}`), SECRET_LENGTH)
  const body = `${USER_TOKEN_PREFIX}${id}_${secret}`
  return body + checksumOf(body)
}

/** The parts of a well-formed user token. */
export interface UserTokenParts {
  /** The public id (safe to log and show). */
  readonly id: string
}

/**
 * Checks shape and checksum, offline. Null for anything else (a typo, a truncated paste, an agent
 * token): the caller refuses it without looking anything up.
 */
export function parseUserToken(token: unknown): UserTokenParts | null {
  if (typeof token !== 'string' || !USER_TOKEN_PATTERN.test(token)) return null
  const split = token.length - CHECKSUM_LENGTH
  if (checksumOf(token.slice(0, split)) !== token.slice(split)) return null
  return { id: token.slice(USER_TOKEN_PREFIX.length, USER_TOKEN_PREFIX.length + ID_LENGTH) }
}

/** SHA-256 of the token's UTF-8 bytes (32 bytes): all a store keeps. */
export function hashUserToken(token: string): Buffer {
  return hash('sha256', token, 'buffer')
}
