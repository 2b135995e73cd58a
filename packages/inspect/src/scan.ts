import { findHits, type Hit, type SecretMatcher } from './matcher.js'

/**
 * Every occurrence of every secret, in every encoding, in `input` (overlaps included), sorted by
 * position. Hits carry the secret's kind label, never its value. A string is scanned as UTF-8, so
 * `index` and `length` are UTF-8 byte offsets either way.
 */
export function scan(matcher: SecretMatcher, input: Uint8Array | string): Hit[] {
  return findHits(matcher, typeof input === 'string' ? Buffer.from(input, 'utf8') : input)
}
