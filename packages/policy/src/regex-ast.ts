/**
 * A small parser for JavaScript regular expressions in Unicode mode (`u` flag), producing just
 * enough structure to judge backtracking risk. Call it only on a pattern `new RegExp(p, 'u')`
 * accepted: it trusts the syntax and approximates character sets (never too small).
 *
 * Character sets are over ASCII (0–127) plus one slot (128) for "any non-ASCII character":
 * the gate's paths are ASCII, so finer detail above 127 does not matter.
 */

const OTHER = 128
/** 129 slots as a bitset in five 32-bit words: small enough for V8 to keep on its own heap. */
const WORDS = 5

export type CharSet = Uint32Array

export type RegexNode =
  | { kind: 'chars'; set: CharSet }
  | { kind: 'assert' }
  | { kind: 'backref' }
  | { kind: 'group'; alternatives: RegexNode[][]; lookaround: boolean }
  | { kind: 'repeat'; node: RegexNode; min: number; max: number }

export function emptySet(): CharSet {
  return new Uint32Array(WORDS)
}

export function fullSet(): CharSet {
  const set = new Uint32Array(WORDS).fill(0xffffffff)
  set[WORDS - 1] = 1 // slot 128 only
  return set
}

/** The slot a code point counts in: itself below 128, else the one "non-ASCII" slot. */
function slot(code: number): number {
  return code < 128 ? code : OTHER
}

function add(set: CharSet, code: number): void {
  const s = slot(code)
  set[s >>> 5] = (set[s >>> 5] as number) | (1 << (s & 31))
}

/** Whether the set admits the code point (any non-ASCII one counts as the one slot above 127). */
export function holds(set: CharSet, code: number): boolean {
  const s = slot(code)
  return ((set[s >>> 5] as number) & (1 << (s & 31))) !== 0
}

/** The set's one member, or -1 when it has none or several. */
export function single(set: CharSet): number {
  let found = -1
  for (let w = 0; w < WORDS; w++) {
    const word = set[w] as number
    if (word === 0) continue
    if (found !== -1 || (word & (word - 1)) !== 0) return -1
    found = w * 32 + (31 - Math.clz32(word))
  }
  return found
}

function setOf(...codes: number[]): CharSet {
  const set = emptySet()
  for (const code of codes) add(set, code)
  return set
}

function range(set: CharSet, from: number, to: number): void {
  for (let c = from; c <= Math.min(to, 127); c++) add(set, c)
  if (to >= 128) add(set, OTHER)
}

function invert(set: CharSet): CharSet {
  const out = emptySet()
  for (let w = 0; w < WORDS - 1; w++) out[w] = ~(set[w] as number)
  out[WORDS - 1] = 1 // a negated class always admits some non-ASCII character
  return out
}

export function union(a: CharSet, b: CharSet): CharSet {
  const out = emptySet()
  for (let w = 0; w < WORDS; w++) out[w] = (a[w] as number) | (b[w] as number)
  return out
}

export function intersects(a: CharSet, b: CharSet): boolean {
  for (let w = 0; w < WORDS; w++) if (((a[w] as number) & (b[w] as number)) !== 0) return true
  return false
}

export function has(set: CharSet, ch: string): boolean {
  return holds(set, ch.codePointAt(0) ?? 0)
}

const DIGITS = setOf()
range(DIGITS, 0x30, 0x39)
const WORD = setOf(0x5f)
range(WORD, 0x30, 0x39)
range(WORD, 0x41, 0x5a)
range(WORD, 0x61, 0x7a)
const SPACE = setOf(0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0xa0)

/** `\d`, `\w`, `\s` and their negations, as a set of the caller's own. */
function classEscape(letter: string): CharSet | null {
  switch (letter) {
    case 'd':
      return DIGITS.slice()
    case 'D':
      return invert(DIGITS)
    case 'w':
      return WORD.slice()
    case 'W':
      return invert(WORD)
    case 's':
      return SPACE.slice()
    case 'S':
      return invert(SPACE)
    default:
      return null
  }
}

const CONTROL_ESCAPES: Readonly<Record<string, number>> = { f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b }

class Parser {
  pos = 0
  constructor(readonly src: string) {}

  peek(offset = 0): string {
    return this.src[this.pos + offset] ?? ''
  }

  disjunction(): RegexNode[][] {
    const alternatives: RegexNode[][] = [this.alternative()]
    while (this.peek() === '|') {
      this.pos++
      alternatives.push(this.alternative())
    }
    return alternatives
  }

  alternative(): RegexNode[] {
    const terms: RegexNode[] = []
    while (this.pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom()
      terms.push(this.quantified(atom))
    }
    return terms
  }

  quantified(node: RegexNode): RegexNode {
    const ch = this.peek()
    let min: number
    let max: number
    if (ch === '*' || ch === '+' || ch === '?') {
      this.pos++
      min = ch === '+' ? 1 : 0
      max = ch === '?' ? 1 : Number.POSITIVE_INFINITY
    } else if (ch === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos))
      if (!match) return node
      this.pos += match[0].length
      min = Number(match[1])
      max = match[2] === undefined ? min : match[3] ? Number(match[3]) : Number.POSITIVE_INFINITY
    } else {
      return node
    }
    if (this.peek() === '?') this.pos++ // lazy: same backtracking space
    return { kind: 'repeat', node, min, max }
  }

  atom(): RegexNode {
    const ch = this.peek()
    this.pos++
    switch (ch) {
      case '^':
      case '$':
        return { kind: 'assert' }
      case '.':
        return { kind: 'chars', set: invert(setOf(0x0a, 0x0d)) }
      case '[':
        return { kind: 'chars', set: this.characterClass() }
      case '(':
        return this.group()
      case '\\':
        return this.escape()
      default:
        return { kind: 'chars', set: setOf(this.codeAt(this.pos - 1)) }
    }
  }

  codeAt(pos: number): number {
    return this.src.codePointAt(pos) ?? 0
  }

  group(): RegexNode {
    let lookaround = false
    if (this.peek() === '?') {
      const next = this.peek(1)
      if (next === ':') this.pos += 2
      else if (next === '=' || next === '!') {
        this.pos += 2
        lookaround = true
      } else if (next === '<' && (this.peek(2) === '=' || this.peek(2) === '!')) {
        this.pos += 3
        lookaround = true
      } else if (next === '<') {
        this.pos = this.src.indexOf('>', this.pos) + 1 // named group
      }
    }
    const alternatives = this.disjunction()
    this.pos++ // ')'
    return { kind: 'group', alternatives, lookaround }
  }

  escape(): RegexNode {
    const ch = this.peek()
    if (ch === 'b' || ch === 'B') {
      this.pos++
      return { kind: 'assert' }
    }
    if (/[1-9]/.test(ch) || ch === 'k') {
      this.pos++
      if (ch === 'k') this.pos = this.src.indexOf('>', this.pos) + 1
      else while (/[0-9]/.test(this.peek())) this.pos++
      return { kind: 'backref' }
    }
    return { kind: 'chars', set: this.characterEscape() }
  }

  /** After a backslash, outside or inside a class: one character or a class escape. */
  characterEscape(): CharSet {
    const ch = this.peek()
    this.pos++
    const cls = classEscape(ch)
    if (cls) return cls
    if (ch === 'p' || ch === 'P') {
      this.pos = this.src.indexOf('}', this.pos) + 1
      return fullSet()
    }
    const control = CONTROL_ESCAPES[ch]
    if (control !== undefined) return setOf(control)
    if (ch === 'c') {
      const letter = this.codeAt(this.pos)
      this.pos++
      return setOf(letter % 32)
    }
    if (ch === '0') return setOf(0)
    if (ch === 'x') {
      const code = Number.parseInt(this.src.slice(this.pos, this.pos + 2), 16)
      this.pos += 2
      return setOf(code)
    }
    if (ch === 'u') {
      if (this.peek() === '{') {
        const end = this.src.indexOf('}', this.pos)
        const code = Number.parseInt(this.src.slice(this.pos + 1, end), 16)
        this.pos = end + 1
        return setOf(code)
      }
      const code = Number.parseInt(this.src.slice(this.pos, this.pos + 4), 16)
      this.pos += 4
      return setOf(code)
    }
    return setOf(this.codeAt(this.pos - 1)) // identity escape: \/ \. \- \\ …
  }

  characterClass(): CharSet {
    let negated = false
    if (this.peek() === '^') {
      negated = true
      this.pos++
    }
    let set = emptySet()
    while (this.pos < this.src.length && this.peek() !== ']') {
      const from = this.classAtom()
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '' && typeof from === 'number') {
        this.pos++
        const to = this.classAtom()
        if (typeof to === 'number') {
          range(set, from, to)
          continue
        }
        set = union(set, to)
        add(set, 0x2d)
      }
      if (typeof from === 'number') add(set, from)
      else set = union(set, from)
    }
    this.pos++ // ']'
    return negated ? invert(set) : set
  }

  /** A single code point, or a set for class escapes like `\d`. */
  classAtom(): number | CharSet {
    const ch = this.peek()
    if (ch !== '\\') {
      const code = this.codeAt(this.pos)
      this.pos += code > 0xffff ? 2 : 1
      return code
    }
    this.pos++
    if (this.peek() === 'b') {
      this.pos++
      return 0x08
    }
    if (this.peek() === '-') {
      this.pos++
      return 0x2d
    }
    const set = this.characterEscape()
    const one = single(set)
    return one !== -1 && one < 128 ? one : set
  }
}

/** Parses a Unicode-mode pattern (already accepted by `new RegExp(p, 'u')`) into its alternatives. */
export function parseRegex(source: string): RegexNode[][] {
  return new Parser(source).disjunction()
}
