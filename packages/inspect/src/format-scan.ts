import { asBuffer } from './encodings.js'
import { type CredentialFormat, FORMATS } from './formats.js'
import { isTokenCode } from './token-chars.js'

/** A well-known credential format found in text. `kind` is `format:<id>`. */
export interface FormatHit {
  readonly kind: string
  readonly index: number
  readonly length: number
}

/**
 * Formats joined into one alternation, one capturing group per format (the format regexes have no
 * capturing groups of their own). One pass over the text finds the leftmost match of any of them.
 */
function combine(formats: readonly CredentialFormat[]): RegExp {
  return new RegExp(formats.map((f) => `(${f.regex.source})`).join('|'), 'g')
}

/**
 * Whether a text can hold a match of a format at all: a necessary condition, far cheaper than the
 * regex, whose lookbehinds and classes leave the regex engine no first character to skip to (the
 * alternation of every format costs ~60 µs on a 16 KiB body). Either literals, one of which every
 * match contains, or a test of its own.
 */
type Anchor = { readonly words: readonly string[] } | { readonly test: (text: string) => boolean }

const anyOf = (...words: string[]): Anchor => ({ words })

/** Upper-case letters from the most to the least frequent in English text. */
const CAPITALS = 'ETAOINSHRDLCUMWFGYPBVKJXQZ'

/**
 * How rare a character is in the bodies, queries and headers agents send (JSON, form data, text):
 * higher is rarer. Lower-case letters and spaces are everywhere and never chosen.
 */
function rarity(c: string): number {
  if (/[a-z ]/.test(c)) return 0
  if (/["':,{}[\]]/.test(c)) return 1
  if (/[0-9]/.test(c)) return 2
  if (/[.-]/.test(c)) return 3
  if (c === '_') return 4
  if (c === '/') return 5
  const capital = CAPITALS.indexOf(c)
  return capital === -1 ? 8 : 6 + capital / CAPITALS.length
}

/** `.`, six token characters, `.`: the middle of a Discord token (`.` alone is in most text). */
function dotSixDot(text: string): boolean {
  for (let i = text.indexOf('.'); i !== -1 && i + 7 < text.length; i = text.indexOf('.', i + 1)) {
    if (text.charCodeAt(i + 7) !== 0x2e) continue
    let token = true
    for (let j = i + 1; j < i + 7 && token; j++) token = isTokenCode(text.charCodeAt(j))
    if (token) return true
  }
  return false
}

/** `SK` and 32 lower-case hex digits: a Twilio key (`SK` alone starts many words in capitals). */
function skHex(text: string): boolean {
  for (let i = text.indexOf('SK'); i !== -1 && i + 34 <= text.length; i = text.indexOf('SK', i + 1)) {
    let hex = true
    for (let j = i + 2; j < i + 34 && hex; j++) {
      const c = text.charCodeAt(j)
      hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
    }
    if (hex) return true
  }
  return false
}

/** The label in any case, `_` optional: a case-insensitive literal search (~8 µs on 16 KiB). */
const AWS_LABEL = /secret_?access_?key/i

/** Whether `text` holds `word` (lower-case ASCII) in any ASCII case, ending just before `end`. */
function endsWithFolded(text: string, end: number, word: string): boolean {
  const start = end - word.length
  if (start < 0) return false
  // `| 0x20` lower-cases an ASCII letter and maps nothing else onto one.
  for (let i = 0; i < word.length; i++)
    if ((text.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false
  return true
}

/** Whether the `k` at `at` ends `secret_?access_?key` (any ASCII case, as the regex's `i` flag). */
function labelAt(text: string, at: number): boolean {
  if ((text.charCodeAt(at + 1) | 0x20) !== 0x65 || (text.charCodeAt(at + 2) | 0x20) !== 0x79) return false
  let end = text.charCodeAt(at - 1) === 0x5f ? at - 1 : at
  if (!endsWithFolded(text, end, 'access')) return false
  end -= 6
  if (text.charCodeAt(end - 1) === 0x5f) end--
  return endsWithFolded(text, end, 'secret')
}

const BOTH_K = ['k', 'K'] as const

/**
 * `AWS_LABEL.test(text)`, found from the label's rarest letter: every `k` and `K` (a search for one
 * character runs at memory speed) is checked for the rest of the label around it, so a text with
 * few of them costs a fraction of a µs where the regex takes ~0.5 ns per character. Past one `k`
 * per 256 characters (English prose, base64) checking them would cost more than the regex, which
 * then decides: never much slower than the regex alone, whatever the text.
 */
function hasAwsLabel(text: string): boolean {
  let budget = 16 + (text.length >>> 8)
  for (const k of BOTH_K) {
    for (let i = text.indexOf(k, 12); i !== -1; i = text.indexOf(k, i + 1)) {
      if (--budget < 0) return AWS_LABEL.test(text)
      if (labelAt(text, i)) return true
    }
  }
  return false
}

/**
 * One anchor per format id, checked against formats.ts by `format-scan.test.ts` (every example is
 * found, and the anchored scan equals the scan of every format over generated texts). An anchor a
 * match could lack would hide that format: each word must be in every possible match.
 */
const ANCHORS: Readonly<Record<string, Anchor>> = {
  'aegis-agent-token': anyOf('aegis_'),
  'aegis-user-token': anyOf('aegis_'),
  'aws-access-key-id': anyOf('AKIA', 'ASIA'),
  'aws-secret-key': { test: hasAwsLabel },
  'github-token': anyOf('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'),
  'github-fine-grained-token': anyOf('github_pat_'),
  'gitlab-token': anyOf('glpat-'),
  'slack-token': anyOf('xoxa-', 'xoxb-', 'xoxp-', 'xoxr-', 'xoxs-'),
  'slack-webhook': anyOf('https://hooks.slack.com/services/T'),
  'stripe-key': anyOf('k_live_', 'k_test_'),
  'openai-key': anyOf('sk-'),
  'anthropic-key': anyOf('sk-ant-'),
  'google-api-key': anyOf('AIza'),
  'private-key': anyOf('-----BEGIN '),
  jwt: anyOf('eyJ'),
  'npm-token': anyOf('npm_'),
  'twilio-api-key': { test: skHex },
  'sendgrid-key': anyOf('SG.'),
  'discord-bot-token': { test: dotSixDot },
  'azure-storage-key': anyOf('AccountKey='),
}

if (FORMATS.length > 31) throw new Error('format-scan: a candidate set is a 31-bit mask')

/** A literal, where its rarest character sits, and the format it stands for. */
interface Pivoted {
  readonly word: string
  readonly offset: number
  readonly bit: number
}

/** Literals grouped by the character they are looked for by: one pass over its occurrences each. */
const BY_PIVOT = new Map<string, Pivoted[]>()
/** The formats with a test of their own. */
const TESTS: Array<{ readonly test: (text: string) => boolean; readonly bit: number }> = []

FORMATS.forEach((format, i) => {
  const anchor = ANCHORS[format.id]
  if (anchor === undefined) throw new Error(`format-scan: no anchor for the format ${format.id}`)
  const bit = 1 << i
  if ('test' in anchor) {
    TESTS.push({ test: anchor.test, bit })
    return
  }
  for (const word of anchor.words) {
    let offset = 0
    for (let j = 1; j < word.length; j++) {
      if (rarity(word[j] as string) > rarity(word[offset] as string)) offset = j
    }
    const pivot = word[offset] as string
    // A lower-case letter is everywhere in text: visiting each of its occurrences would cost more
    // than the regex it is meant to spare.
    if (rarity(pivot) === 0) throw new Error(`format-scan: "${word}" has no uncommon character`)
    const group = BY_PIVOT.get(pivot) ?? []
    group.push({ word, offset, bit })
    BY_PIVOT.set(pivot, group)
  }
})
const PIVOTS = [...BY_PIVOT]

/** The formats whose anchor `text` holds, as a bit mask over FORMATS. */
function candidates(text: string): number {
  let mask = 0
  for (const [pivot, group] of PIVOTS) {
    let left = group.length
    for (let i = text.indexOf(pivot); i !== -1 && left > 0; i = text.indexOf(pivot, i + 1)) {
      for (const p of group) {
        if ((mask & p.bit) === 0 && text.startsWith(p.word, i - p.offset)) {
          mask |= p.bit
          left--
        }
      }
    }
  }
  for (const { test, bit } of TESTS) if (test(text)) mask |= bit
  return mask
}

interface Scanner {
  readonly re: RegExp
  readonly formats: readonly CredentialFormat[]
}

/** The alternation of each set of candidate formats met so far (few: texts are alike). */
const scanners = new Map<number, Scanner>()
const MAX_SCANNERS = 256

function scannerFor(mask: number): Scanner {
  let scanner = scanners.get(mask)
  if (scanner === undefined) {
    const formats = FORMATS.filter((_, i) => (mask & (1 << i)) !== 0)
    scanner = { re: combine(formats), formats }
    if (scanners.size >= MAX_SCANNERS) scanners.clear()
    scanners.set(mask, scanner)
  }
  return scanner
}

/**
 * Find well-known credential formats in `input`. Bytes are read as latin1 (every format is ASCII),
 * so a byte input's `index` is a byte offset; a string's is a UTF-16 offset.
 *
 * Only the formats whose anchor the text holds are searched for, in one alternation of those alone:
 * a format left out could not have matched anywhere, so the hits are exactly the full scan's.
 */
export function scanFormats(input: string | Uint8Array): FormatHit[] {
  const text = typeof input === 'string' ? input : asBuffer(input).toString('latin1')
  const mask = candidates(text)
  if (mask === 0) return []
  // One shared regex per set, restarted (a scan runs to its end synchronously; nothing re-enters
  // it): a copy per call was a RegExp allocation on every request's path and headers.
  const { re, formats } = scannerFor(mask)
  re.lastIndex = 0
  const hits: FormatHit[] = []
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const group = m.findIndex((g, i) => i > 0 && g !== undefined)
    const format = formats[group - 1]
    if (format !== undefined && (format.validate === undefined || format.validate(m[0]))) {
      hits.push({ kind: `format:${format.id}`, index: m.index, length: m[0].length })
    } else {
      // A rejected candidate may overlap a real token: resume one character later.
      re.lastIndex = m.index + 1
    }
  }
  return hits
}
