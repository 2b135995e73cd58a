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
import { type CharSet, emptySet, fullSet, has, intersects, type RegexNode, union } from './regex-ast.js'

/** A bounded quantifier above this many repetitions backtracks like an unbounded one. */
const WIDE_REPEAT = 8
/** Longest run of wide quantifiers that may overlap. */
const MAX_OVERLAPPING = 2
/** log2 of the longest path a pattern is matched against (MAX_MATCHED_PATH_LENGTH, 4096). */
const WIDE_BITS = 12
/**
 * The most backtracking one run may cost, in bits: what two overlapping wide quantifiers cost over a
 * 4096-character path (2 × 12; `/.*.*z` fails in about 14 ms). A narrow choice (`?`, `{1,3}`,
 * `(?:a|aa)`) counts twice its log2: each of its steps measured about 4× a wide one's (`.*` then
 * fourteen `a?`: 265 ms). Before narrow choices counted, ten `.{0,8}` in a row (9^10 ways) took
 * 12 s per request and were accepted.
 */
const MAX_RUN_BITS = MAX_OVERLAPPING * WIDE_BITS
/** The weight of a narrow choice's bit against a wide quantifier's. */
const CHOICE_WEIGHT = 2

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

/** Whether two alternatives of a group can start with the same character, or one can be empty. */
function alternativesOverlap(alternatives: Alternatives): boolean {
  const firsts: CharSet[] = []
  for (const seq of alternatives) {
    if (sequenceMinLength(seq) === 0) return true
    const first = firstChars(seq)
    if (firsts.some((other) => intersects(other, first))) return true
    firsts.push(first)
  }
  return false
}

/**
 * log2 of the ways a narrow item can match the same text (the backtracking it multiplies a run
 * by): `x?` 1, `x{1,3}` log2 3, `(?:a|aa)` 1; wide quantifiers are counted by `wideWeight`,
 * lookarounds not at all (a lookaround's match is atomic, its own run checked on its own).
 */
function choiceBits(node: RegexNode): number {
  if (node.kind === 'repeat') {
    if (isWide(node.max)) return 0
    const own = node.max > node.min ? Math.log2(node.max - node.min + 1) : 0
    return own + node.max * choiceBits(node.node)
  }
  if (node.kind !== 'group' || node.lookaround) return 0
  const inner = Math.max(0, ...node.alternatives.map((seq) => seq.reduce((sum, n) => sum + choiceBits(n), 0)))
  return inner + (alternativesOverlap(node.alternatives) ? Math.log2(node.alternatives.length) : 0)
}

/** Alternatives inside a repeated group must be told apart by their first character. */
function ambiguousAlternation(node: RegexNode): boolean {
  if (node.kind === 'repeat') return ambiguousAlternation(node.node)
  if (node.kind !== 'group') return false
  if (node.alternatives.length > 1 && alternativesOverlap(node.alternatives)) return true
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
function flatten(seq: readonly RegexNode[], into: RegexNode[] = []): RegexNode[] {
  for (const node of seq) {
    if (node.kind === 'group' && !node.lookaround && node.alternatives.length === 1)
      flatten(node.alternatives[0] ?? [], into)
    else into.push(node)
  }
  return into
}

/**
 * Counts wide quantifiers that can take turns consuming the same text. A run only ends at an item
 * that must consume a character none of the run's quantifiers can match (e.g. the `/` in
 * `[^/]+/[^/]+`); a wide item with no such character joins the run, conservatively.
 */
function polynomialRisk(seq: readonly RegexNode[], countChoices: boolean): string | null {
  let run = 0
  /** The narrow choices in the run (see `choiceBits`). */
  let choices = 0
  let runChars: CharSet = emptySet()
  for (const item of flatten(seq)) {
    const group = item.kind === 'repeat' ? item.node : item
    if (group.kind === 'group') {
      for (const branch of group.alternatives) {
        const inner = polynomialRisk(branch, countChoices)
        if (inner !== null) return inner
      }
    }
    const chars = charsOf(item)
    const weight = wideWeight(item)
    const bits = countChoices ? choiceBits(item) : 0
    const separates = (run > 0 || choices > 0) && minLength(item) > 0 && !intersects(runChars, chars)
    if (separates) {
      run = 0
      choices = 0
      runChars = emptySet()
    }
    if (weight > 0 || bits > 0) {
      run += weight
      choices += bits
      runChars = union(runChars, chars)
      if (run > MAX_OVERLAPPING) {
        return `more than ${MAX_OVERLAPPING} wide quantifiers (*, +, {n,}) in a row can match the same text (e.g. .*a.*a.*), which can take polynomial time; bound path segments with [^/]* or [^/]+`
      }
      if (run * WIDE_BITS + CHOICE_WEIGHT * choices > MAX_RUN_BITS) {
        return 'too many optional or bounded parts in a row can match the same text (e.g. a?a?a?a?…, .{0,8}.{0,8}…, (?:a|aa)(?:a|aa)…, or any beside two .*), which can take exponential time; separate them with a character they cannot match, such as / (bound segments with [^/]+)'
      }
    }
  }
  return null
}

/**
 * Why a pattern is refused for its backtracking risk, or null. Takes the pattern parsed
 * (`parseRegex` of a source valid with the `u` flag).
 */
export function backtrackingRisk(alternatives: Alternatives): string | null {
  const root: RegexNode = { kind: 'group', alternatives, lookaround: false }
  // Wide quantifiers first, so that a chain of them is named as such even when narrow choices in
  // it would refuse it too.
  const runs = (countChoices: boolean) =>
    alternatives.map((seq) => polynomialRisk(seq, countChoices)).find((r) => r !== null) ?? null
  return walk(root, exponentialRisk) ?? runs(false) ?? runs(true)
}

/** True when some path matching the pattern could start with `/` (all gate paths do). */
export function canStartWithSlash(alternatives: Alternatives): boolean {
  return alternatives.some((seq) => sequenceMinLength(seq) === 0 || has(firstChars(seq), '/'))
}
