/**
 * What a credential secret must look like for the gate to protect it. The vault refuses to store a
 * secret with a problem; the gate warns about rows stored before these rules.
 */

/**
 * Shortest secret the gate recognises, in UTF-8 bytes. Inspection and redaction search for every
 * secret in every encoding; a value under 8 bytes occurs by chance in ordinary traffic often enough
 * that matching it would redact and block at random, so the matcher leaves it out.
 */
export const MIN_SECRET_BYTES = 8

/** Kinds of problem, in the order `secretProblems` reports them. */
export type SecretFlaw = 'ill_formed' | 'whitespace' | 'control' | 'short'

/** One problem with a secret. `message` is one line, starts with `secret`, and never quotes the value. */
export interface SecretProblem {
  readonly flaw: SecretFlaw
  readonly message: string
}

/**
 * General category Cc: the C0 controls, DEL and the C1 controls (U+0000-001F, U+007F-009F). Never
 * part of an API key; often a paste or terminal accident.
 */
const CONTROL = /\p{Cc}/u
/** An unpaired UTF-16 surrogate: stored as U+FFFD, so the vault would keep another value. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
/** Everything `String.prototype.trim` removes: what servers and frameworks strip around a token. */
const EDGE_WHITESPACE = /^\s|\s$/

const NAMES: Readonly<Record<string, string>> = {
  '\n': 'newline (LF)',
  '\r': 'carriage return (CR)',
  '\t': 'tab',
  ' ': 'space',
  '\u0000': 'NUL character',
  '\u001b': 'escape character (ESC)',
  '\u007f': 'delete character (DEL)',
  '\u00a0': 'no-break space (U+00A0)',
  '\ufeff': 'byte-order mark (U+FEFF)',
}

/** `newline (LF)`, `tab`, or `character U+2003`: names the character, which is never secret material. */
function characterName(char: string): string {
  const code = char.codePointAt(0) ?? 0
  return NAMES[char] ?? `character U+${code.toString(16).toUpperCase().padStart(4, '0')}`
}

const FIX_WHITESPACE =
  'remove surrounding whitespace (pipe it with printf %s or echo -n; an upstream ignores it, so the gate would look for the wrong value)'

/**
 * Every problem with `value` as a secret the gate must recognise, most specific first; empty when
 * there is none. The length rule applies to the value without surrounding whitespace, since that is
 * what an upstream that trims receives and may echo.
 */
export function secretProblems(value: string): SecretProblem[] {
  const problems: SecretProblem[] = []
  if (LONE_SURROGATE.test(value)) {
    problems.push({
      flaw: 'ill_formed',
      message: 'secret is not well-formed Unicode (it holds an unpaired surrogate code unit)',
    })
  }
  if (EDGE_WHITESPACE.test(value)) {
    const first = value[0] ?? ''
    const last = value[value.length - 1] ?? ''
    const where = /\s/.test(last) ? `a trailing ${characterName(last)}` : `a leading ${characterName(first)}`
    problems.push({ flaw: 'whitespace', message: `secret has ${where}: ${FIX_WHITESPACE}` })
  }
  const control = CONTROL.exec(value)
  if (control !== null) {
    problems.push({
      flaw: 'control',
      message: `secret contains a control character (${characterName(control[0])}): a secret is printable text`,
    })
  }
  if (Buffer.byteLength(value.trim(), 'utf8') < MIN_SECRET_BYTES) {
    problems.push({
      flaw: 'short',
      message: `secret is shorter than ${MIN_SECRET_BYTES} bytes (UTF-8): the gate cannot recognise a shorter secret in requests and responses, so it could not keep it from leaking`,
    })
  }
  return problems
}

/**
 * Whether a header can carry `value`: header values go on the wire one byte per character
 * (Latin-1), so a character past U+00FF has no byte there. A `bearer` or `header` credential with
 * such a secret cannot be injected at all (undici refuses the header; the agent read "could not be
 * reached"). The check never says which character, which would be secret material.
 */
export function headerCanCarry(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false
  return true
}
