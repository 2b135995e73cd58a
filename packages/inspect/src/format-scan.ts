import { asBuffer } from './encodings.js'
import { type CredentialFormat, FORMATS } from './formats.js'

/** A well-known credential format found in text. `kind` is `format:<id>`. */
export interface FormatHit {
  readonly kind: string
  readonly index: number
  readonly length: number
}

/**
 * All formats joined into one alternation, one capturing group per format (the format regexes have
 * no capturing groups of their own). One pass over the text finds the leftmost match of any format.
 */
function combine(formats: readonly CredentialFormat[]): RegExp {
  return new RegExp(formats.map((f) => `(${f.regex.source})`).join('|'), 'g')
}

const COMBINED = combine(FORMATS)

/**
 * Find well-known credential formats in `input`. Bytes are read as latin1 (every format is ASCII),
 * so a byte input's `index` is a byte offset; a string's is a UTF-16 offset.
 */
export function scanFormats(input: string | Uint8Array): FormatHit[] {
  const text = typeof input === 'string' ? input : asBuffer(input).toString('latin1')
  // One shared regex, restarted (a scan runs to its end synchronously; nothing re-enters it): a
  // copy per call was a RegExp allocation on every request's path and headers.
  const re = COMBINED
  re.lastIndex = 0
  const hits: FormatHit[] = []
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const group = m.findIndex((g, i) => i > 0 && g !== undefined)
    const format = FORMATS[group - 1]
    if (format !== undefined && (format.validate === undefined || format.validate(m[0]))) {
      hits.push({ kind: `format:${format.id}`, index: m.index, length: m[0].length })
    } else {
      // A rejected candidate may overlap a real token: resume one character later.
      re.lastIndex = m.index + 1
    }
  }
  return hits
}
