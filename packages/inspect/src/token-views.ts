/**
 * Views of a request body in which an operator (user) token written base64, hex or JSON-escaped
 * appears raw, for the format scan. The gate cannot know these tokens (they are stored hashed where
 * it never looks), so unlike vault secrets they cannot be matched in every encoding up front; the
 * fixed `aegis_us` at their start can. A body without one of those spellings costs a few native
 * `indexOf` calls and no copy.
 */
import { asBuffer, base64StableMiddles, type Encoding } from './encodings.js'
import { STEM_JSON } from './views.js'

const STEM = 'aegis_us'

/** The stem in base64 at each alignment (base64url spells these three the same way). */
const BASE64_NEEDLES = base64StableMiddles(Buffer.from(STEM, 'latin1')).map((n) => Buffer.from(n, 'latin1'))
const HEX_NEEDLES = [Buffer.from(STEM).toString('hex'), Buffer.from(STEM).toString('hex').toUpperCase()].map(
  (n) => Buffer.from(n, 'latin1'),
)

/**
 * Each needle with a probe: one of its bytes (an upper-case letter if it has one, else a letter),
 * looked for with memchr. Buffer#indexOf of a 10- to 16-byte needle cost about 2 µs per 16 KiB of
 * JSON (it restarts at every occurrence of the needle's first byte), five of them per body.
 */
interface Probed {
  readonly needle: Buffer
  readonly probe: number
  /** where the probe byte is in the needle */
  readonly offset: number
}

function probed(needle: Buffer): Probed {
  const upper = needle.findIndex((b) => b >= 0x41 && b <= 0x5a)
  const letter = needle.findIndex((b) => (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a)
  const offset = upper !== -1 ? upper : Math.max(letter, 0)
  return { needle, probe: needle[offset] as number, offset }
}

const PROBED_BASE64 = BASE64_NEEDLES.map(probed)
const PROBED_HEX = HEX_NEEDLES.map(probed)
/** Probe bytes checked one by one before the rest goes to Buffer#indexOf (a body full of them). */
const PROBE_TRIES = 16

/** `bytes.indexOf(needle, from)`, found through its probe byte. */
function indexOfProbed(bytes: Buffer, { needle, probe, offset }: Probed, from: number): number {
  let p = bytes.indexOf(probe, from + offset)
  for (let tries = 0; p !== -1; tries++) {
    const start = p - offset
    if (tries === PROBE_TRIES) return bytes.indexOf(needle, start)
    let k = 0
    while (k < needle.length && bytes[start + k] === needle[k]) k++
    if (k === needle.length) return start
    p = bytes.indexOf(probe, p + 1)
  }
  return -1
}

/** The needles above as text: a plain string holding none of them has no token view. */
export const TOKEN_VIEW_NEEDLES: readonly string[] = [...BASE64_NEEDLES, ...HEX_NEEDLES].map((n) =>
  n.toString('latin1'),
)

export interface TokenView {
  readonly bytes: Uint8Array
  readonly encoding: Encoding
}

function isBase64Byte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a) ||
    b === 0x2b ||
    b === 0x2f ||
    b === 0x2d ||
    b === 0x5f
  )
}

function isHexByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66)
}

/** The run of bytes around `at` that `inRun` accepts. */
function runAround(bytes: Buffer, at: number, inRun: (b: number) => boolean): [number, number] {
  let start = at
  while (start > 0 && inRun(bytes[start - 1] as number)) start--
  let end = at
  while (end < bytes.length && inRun(bytes[end] as number)) end++
  return [start, end]
}

/** `\uXXXX` escapes of ASCII characters and `\/` undone (any hex case); null when there is none. */
function jsonUnescaped(bytes: Buffer): Buffer | null {
  const text = bytes.toString('latin1')
  if (!text.includes('\\')) return null
  return Buffer.from(
    text.replace(/\\u00([0-7][0-9a-fA-F])|\\\//g, (_all, hex: string | undefined) =>
      hex === undefined ? '/' : String.fromCharCode(Number.parseInt(hex, 16)),
    ),
    'latin1',
  )
}

/**
 * Decoded views of `input` that may hold an operator token; empty for the usual body. `stem` is
 * `escapedUserTokenStem(input)` (the caller has it already).
 */
export function userTokenViews(input: Uint8Array, stem: number): TokenView[] {
  const bytes = asBuffer(input)
  const views: TokenView[] = []
  for (const probe of PROBED_BASE64) {
    const needle = probe.needle
    for (
      let at = indexOfProbed(bytes, probe, 0);
      at !== -1;
      at = indexOfProbed(bytes, probe, at + needle.length)
    ) {
      const [start, end] = runAround(bytes, at, isBase64Byte)
      const run = bytes.toString('latin1', start, end)
      // The run may begin before the encoded text does (a word glued to it): try each start.
      for (let skip = 0; skip < 4; skip++) {
        views.push({ bytes: Buffer.from(run.slice(skip), 'base64'), encoding: 'base64' })
      }
      at = end
    }
  }
  for (const probe of PROBED_HEX) {
    const needle = probe.needle
    for (
      let at = indexOfProbed(bytes, probe, 0);
      at !== -1;
      at = indexOfProbed(bytes, probe, at + needle.length)
    ) {
      const [, end] = runAround(bytes, at, isHexByte)
      // Hex pairs are aligned to the stem itself: decode from it.
      views.push({
        bytes: Buffer.from(bytes.toString('latin1', at, end - ((end - at) % 2)), 'hex'),
        encoding: 'hex',
      })
      at = end
    }
  }
  if ((stem & STEM_JSON) !== 0) {
    const unescaped = jsonUnescaped(bytes)
    if (unescaped !== null) views.push({ bytes: unescaped, encoding: 'json-escape' })
  }
  return views
}
