/**
 * Backtracking-risk check for operator-written path patterns. The agent controls the string
 * matched, so a pattern whose match time can explode is refused at load time:
 *
 * - back-references (never needed for paths);
 * - a repeated group (`*`, `+`, `{n,}` or `{n,m}` with m > 1) that holds any quantifier,
 *   e.g. `(a+)+`, `(.*)*`, `(a?a)*` — exponential;
 * - a repeated group with alternatives that can start with the same character or be empty,
 *   e.g. `(a|a)*`, `(a|ab)+` — exponential;
 * - three or more wide quantifiers in a row that can all match the same text, e.g. `.*a.*a.*`
 *   — polynomial (n³). Two are allowed; paths are bounded in length. A group counts with the
 *   most wide quantifiers any of its alternatives holds, e.g. `.+(?:[^/]+x+)?` counts 3.
 */
import {
  type CharSet,
  emptySet,
  fullSet,
  has,
  intersects,
  parseRegex,
  type RegexNode,
  union,
} from './regex-ast.js'

/** A bounded quantifier above this many repetitions backtracks like an unbounded one. */
const WIDE_REPEAT = 8
/** Longest run of wide quantifiers that may overlap. */
const MAX_OVERLAPPING = 2

type Alternatives = RegexNode[][]

function isWide(max: number): boolean {
  return max > WIDE_REPEAT
}

/** Every character a node can consume. */
function charsOf(node: RegexNode): CharSet {
  switch (node.kind) {
    case 'chars':
      return node.set
    case 'repeat':
      return charsOf(node.node)
    case 'group':
      return node.alternatives.flat().reduce((acc, n) => union(acc, charsOf(n)), emptySet())
    default:
      return node.kind === 'backref' ? fullSet() : emptySet()
  }
}

function minLength(node: RegexNode): number {
  switch (node.kind) {
    case 'chars':
      return 1
    case 'repeat':
      return node.min * minLength(node.node)
    case 'group':
      if (node.lookaround) return 0
      return Math.min(...node.alternatives.map(sequenceMinLength))
    default:
      return 0
  }
}

function sequenceMinLength(seq: readonly RegexNode[]): number {
  return seq.reduce((sum, n) => sum + minLength(n), 0)
}

/** Characters a sequence can start with (a superset). */
export function firstChars(seq: readonly RegexNode[]): CharSet {
  let first = emptySet()
  for (const node of seq) {
    first = union(first, firstOf(node))
    if (minLength(node) > 0) return first
  }
  return first
}

function firstOf(node: RegexNode): CharSet {
  switch (node.kind) {
    case 'chars':
      return node.set
    case 'repeat':
      return node.max === 0 ? emptySet() : firstOf(node.node)
    case 'group':
      if (node.lookaround) return emptySet()
      return node.alternatives.reduce((acc, seq) => union(acc, firstChars(seq)), emptySet())
    default:
      return node.kind === 'backref' ? fullSet() : emptySet()
  }
}

function containsQuantifier(node: RegexNode): boolean {
  if (node.kind === 'repeat') return true
  if (node.kind === 'group') return node.alternatives.some((seq) => seq.some(containsQuantifier))
  return false
}

/**
 * How many wide quantifiers one path through the node can chain: a wide repeat counts 1 (its body
 * has no quantifier once the exponential check passed), a group the most of any alternative.
 */
function wideWeight(node: RegexNode): number {
  if (node.kind === 'repeat')
    return isWide(node.max) ? Math.max(1, wideWeight(node.node)) : wideWeight(node.node)
  if (node.kind === 'group') {
    return Math.max(0, ...node.alternatives.map((seq) => seq.reduce((sum, n) => sum + wideWeight(n), 0)))
  }
  return 0
}

/** Alternatives inside a repeated group must be told apart by their first character. */
function ambiguousAlternation(node: RegexNode): boolean {
  if (node.kind === 'repeat') return ambiguousAlternation(node.node)
  if (node.kind !== 'group') return false
  if (node.alternatives.length > 1) {
    const firsts: CharSet[] = []
    for (const seq of node.alternatives) {
      if (sequenceMinLength(seq) === 0) return true
      const first = firstChars(seq)
      if (firsts.some((other) => intersects(other, first))) return true
      firsts.push(first)
    }
  }
  return node.alternatives.some((seq) => seq.some(ambiguousAlternation))
}

function walk(node: RegexNode, visit: (node: RegexNode) => string | null): string | null {
  const found = visit(node)
  if (found !== null) return found
  if (node.kind === 'repeat') return walk(node.node, visit)
  if (node.kind === 'group') {
    for (const seq of node.alternatives) {
      for (const child of seq) {
        const inner = walk(child, visit)
        if (inner !== null) return inner
      }
    }
  }
  return null
}

function exponentialRisk(node: RegexNode): string | null {
  if (node.kind === 'backref') return 'back-references are not allowed in path patterns'
  if (node.kind !== 'repeat' || node.max <= 1 || node.node.kind !== 'group') return null
  if (node.node.alternatives.some((seq) => seq.some(containsQuantifier))) {
    return 'nested quantifier: a repeated group may not contain *, +, ? or {…} (e.g. (a+)+ or (.*)*), which can take exponential time; use a single character class such as [a-z/]* instead'
  }
  if (ambiguousAlternation(node.node)) {
    return 'ambiguous alternatives in a repeated group (e.g. (a|a)* or (a|ab)+), which can take exponential time; make each alternative start with a different character'
  }
  return null
}

/** Items of a sequence, with non-capturing single-branch groups flattened. */
function flatten(seq: readonly RegexNode[]): RegexNode[] {
  return seq.flatMap((node) =>
    node.kind === 'group' && !node.lookaround && node.alternatives.length === 1
      ? flatten(node.alternatives[0] ?? [])
      : [node],
  )
}

/**
 * Counts wide quantifiers that can take turns consuming the same text. A run only ends at an item
 * that must consume a character none of the run's quantifiers can match (e.g. the `/` in
 * `[^/]+/[^/]+`); a wide item with no such character joins the run, conservatively.
 */
function polynomialRisk(seq: readonly RegexNode[]): string | null {
  let run = 0
  let runChars: CharSet = emptySet()
  for (const item of flatten(seq)) {
    const group = item.kind === 'repeat' ? item.node : item
    if (group.kind === 'group') {
      for (const branch of group.alternatives) {
        const inner = polynomialRisk(branch)
        if (inner !== null) return inner
      }
    }
    const chars = charsOf(item)
    const weight = wideWeight(item)
    const separates = run > 0 && minLength(item) > 0 && !intersects(runChars, chars)
    if (separates) {
      run = 0
      runChars = emptySet()
    }
    if (weight > 0) {
      run += weight
      runChars = union(runChars, chars)
      if (run > MAX_OVERLAPPING) {
        return `more than ${MAX_OVERLAPPING} wide quantifiers (*, +, {n,}) in a row can match the same text (e.g. .*a.*a.*), which can take polynomial time; bound path segments with [^/]* or [^/]+`
      }
    }
  }
  return null
}

/** Why a pattern (valid with the `u` flag) is refused for its backtracking risk, or null. */
export function backtrackingRisk(source: string): string | null {
  const alternatives: Alternatives = parseRegex(source)
  const root: RegexNode = { kind: 'group', alternatives, lookaround: false }
  return walk(root, exponentialRisk) ?? alternatives.map(polynomialRisk).find((r) => r !== null) ?? null
}

/** True when some path matching the pattern could start with `/` (all gate paths do). */
export function canStartWithSlash(source: string): boolean {
  const alternatives = parseRegex(source)
  return alternatives.some((seq) => sequenceMinLength(seq) === 0 || has(firstChars(seq), '/'))
}
