import { crc32 } from 'node:zlib'
import { CustodyError } from './errors.js'

/** First field of every share this version writes. */
export const SHARE_PREFIX = 'aegis-share-v1'
/** Set ids are 8 random bytes, hex: one per split, shared by all its shares. */
const SET_ID = /^[0-9a-f]{16}$/
const THRESHOLD = /^[1-9][0-9]{0,2}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
/** Written as lowercase hex; any 8 letters or digits are compared, so a changed digit is damage. */
const CHECKSUM = /^[0-9A-Za-z]{8}$/

/** One share as read back: which split, its threshold, and the raw `shamir-secret-sharing` bytes. */
export interface ParsedShare {
  setId: string
  threshold: number
  /** y-bytes then the x-coordinate (last byte), as the library made them. */
  bytes: Uint8Array
  /** 1-based position in the caller's input, for messages. */
  position: number
}

/** CRC32 of the text before the checksum field, as 8 lowercase hex digits. */
function checksumOf(body: string): string {
  return crc32(Buffer.from(body, 'utf8')).toString(16).padStart(8, '0')
}

/**
 * `aegis-share-v1.<setId>.<threshold>.<base64url(share)>.<crc32>`: self-describing (format, split,
 * threshold) so a share from elsewhere is named as such, and checksummed so a share damaged in
 * copying is an error before any arithmetic — the library itself turns a bad share into a wrong key.
 */
export function encodeShare(setId: string, threshold: number, bytes: Uint8Array): string {
  const body = `${SHARE_PREFIX}.${setId}.${threshold}.${Buffer.from(bytes).toString('base64url')}`
  return `${body}.${checksumOf(body)}`
}

/**
 * Reads one share. The checksum is compared before any field is interpreted, so one changed
 * character anywhere (CRC32 catches every change of up to 32 bits) is reported as damage, not as
 * a share of some other split. Messages never quote the input.
 */
export function parseShare(text: string, position: number): ParsedShare {
  const share = text.trim()
  const fields = share.split('.')
  const expected = `expected ${SHARE_PREFIX}.<set id>.<threshold>.<data>.<checksum>, as aegis vault split printed it`
  if (fields.length !== 5) {
    throw new CustodyError('malformed_share', `Share ${position} is not an Aegis key share (${expected})`)
  }
  const [prefix, setId, threshold, data, checksum] = fields as [string, string, string, string, string]
  if (!CHECKSUM.test(checksum)) {
    throw new CustodyError('malformed_share', `Share ${position} has no valid checksum field (${expected})`)
  }
  if (checksumOf(share.slice(0, share.length - checksum.length - 1)) !== checksum) {
    throw new CustodyError(
      'checksum',
      `Share ${position} fails its checksum: a character was changed, added or lost in copying (compare it with the original)`,
    )
  }
  if (prefix !== SHARE_PREFIX) {
    if (!/^aegis-share-v[0-9]+$/.test(prefix)) {
      throw new CustodyError('malformed_share', `Share ${position} is not an Aegis key share (${expected})`)
    }
    throw new CustodyError(
      'unsupported_share',
      `Share ${position} is in a share format this version of Aegis cannot read (${prefix.slice(12)}; this one reads v1)`,
    )
  }
  const t = Number(threshold)
  if (!SET_ID.test(setId) || !THRESHOLD.test(threshold) || t < 2 || t > 255 || !BASE64URL.test(data)) {
    throw new CustodyError('malformed_share', `Share ${position} has a malformed field (${expected})`)
  }
  const bytes = Buffer.from(data, 'base64url')
  // A share is the secret's length plus the x-coordinate byte; a master key is never empty.
  if (bytes.length < 2) {
    throw new CustodyError('malformed_share', `Share ${position} is too short to hold a key`)
  }
  return { setId, threshold: t, bytes: new Uint8Array(bytes), position }
}
