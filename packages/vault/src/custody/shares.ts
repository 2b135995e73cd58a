import { combine } from 'shamir-secret-sharing'
import { type ParsedShare, parseShare } from './envelope.js'
import { CustodyError } from './errors.js'
import { passesKeyCheck } from './key-check.js'
import type { CustodyRecord } from './record.js'

/** The x-coordinate: the library's last byte, distinct for every share of one split. */
function xOf(share: ParsedShare): number {
  return share.bytes[share.bytes.length - 1] as number
}

/**
 * Checks one more share against those already accepted: same split as the others, the split of
 * this data dir, not a repeat. `position` numbers the share in the caller's input.
 */
export function acceptShare(
  text: string,
  position: number,
  accepted: readonly ParsedShare[],
  custody: CustodyRecord,
): ParsedShare {
  const share = parseShare(text, position)
  const first = accepted[0]
  if (first !== undefined && share.setId !== first.setId) {
    throw new CustodyError(
      'mixed_sets',
      `Shares ${first.position} and ${position} come from two different splits (set ${first.setId} and set ${share.setId}): use shares of one split only`,
    )
  }
  if (share.setId !== custody.setId) {
    throw new CustodyError(
      'foreign_share',
      `Share ${position} is from split ${share.setId}, not from this vault's current split ${custody.setId} (an older split, or another workspace): shares stop working when the key is split again`,
    )
  }
  if (share.threshold !== custody.threshold) {
    throw new CustodyError(
      'malformed_share',
      `Share ${position} says a threshold of ${share.threshold}, but split ${custody.setId} needs ${custody.threshold}`,
    )
  }
  const twin = accepted.find((s) => xOf(s) === xOf(share))
  if (twin !== undefined) {
    throw new CustodyError(
      'duplicate_share',
      `Shares ${twin.position} and ${position} are the same share: each share counts once, ${custody.threshold} different shares are needed`,
    )
  }
  if (first !== undefined && share.bytes.length !== first.bytes.length) {
    throw new CustodyError(
      'malformed_share',
      `Share ${position} has a different length from share ${first.position}, though both name split ${custody.setId}`,
    )
  }
  return share
}

/** Checks every share (in order, stopping at the first problem); returns them parsed. */
export function acceptShares(texts: readonly string[], custody: CustodyRecord): ParsedShare[] {
  const accepted: ParsedShare[] = []
  texts.forEach((text, i) => {
    accepted.push(acceptShare(text, i + 1, accepted, custody))
  })
  return accepted
}

/**
 * Rebuilds the master key from accepted shares and proves it against the custody key check. The
 * caller owns the returned Buffer and zeroes it when done.
 */
export async function rebuildKey(shares: readonly ParsedShare[], custody: CustodyRecord): Promise<Buffer> {
  if (shares.length < custody.threshold) {
    throw new CustodyError(
      'too_few_shares',
      `${shares.length} share${shares.length === 1 ? '' : 's'} given, ${custody.threshold} needed: split ${custody.setId} has a threshold of ${custody.threshold} of ${custody.shares}`,
    )
  }
  let key: Buffer
  try {
    key = Buffer.from(await combine(shares.map((s) => s.bytes)))
  } catch {
    throw new CustodyError(
      'malformed_share',
      'The shares could not be combined (their lengths or coordinates do not fit together)',
    )
  }
  if (!passesKeyCheck(key, custody.keyCheck)) {
    key.fill(0)
    throw new CustodyError(
      'key_check_failed',
      `Invalid master key: the ${shares.length} shares rebuilt a key that fails the key check of split ${custody.setId} (a share was forged or altered with a matching checksum)`,
    )
  }
  return key
}
