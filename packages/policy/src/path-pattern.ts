/**
 * Path patterns: regular expressions matched against the whole canonical path
 * (`^(?:pattern)$`, Unicode mode), checked for backtracking risk when loaded.
 */
import { splitGatePath } from '@aegis/guard'
import { backtrackingRisk, canStartWithSlash } from './redos.js'
import { parseRegex, type RegexNode, single } from './regex-ast.js'
import type { PathPattern } from './types.js'

/** Longest pattern accepted. */
export const MAX_PATTERN_LENGTH = 1024
/** Paths longer than this never match a path pattern (the rule's other parts still apply). */
export const MAX_MATCHED_PATH_LENGTH = 4096

const METACHARACTERS = /[\\^$.|?*+()[\]{}]/

/** Characters that repeat the atom before them. */
const QUANTIFIERS = '?*+{'

/**
 * The literal text every path the pattern matches starts with: the pattern's leading plain ASCII
 * characters, up to its first metacharacter (less the last character when a quantifier follows
 * it: `/abc?` promises only `/ab`). Empty when the pattern has an alternation anywhere (`/a|/b`
 * promises neither), so the prefix is never more than the regex requires. Checked with one
 * `startsWith` before the regex runs: most rules of a policy fail on their first segment.
 */
export function literalPrefix(source: string): string {
  if (source.includes('|')) return ''
  let end = 0
  while (end < source.length) {
    const c = source.charCodeAt(end)
    // Non-ASCII ends it too: a quantifier after an astral character repeats its whole pair.
    if (c > 0x7e || c < 0x20 || METACHARACTERS.test(source[end] as string)) break
    end++
  }
  if (end < source.length && QUANTIFIERS.includes(source[end] as string)) end--
  return source.slice(0, Math.max(0, end))
}

/**
 * Why the gate would never hand `path` to a policy as it is, or null: the path must be one the gate
 * forwards unchanged (leading `/`, no query, no traversal or encoded separators, per
 * `splitGatePath`, at most `MAX_MATCHED_PATH_LENGTH` characters). The evaluator refuses such a path
 * whatever the rules say; a literal pattern naming one could never match.
 */
export function canonicalPathProblem(path: string): string | null {
  if (typeof path !== 'string' || !path.startsWith('/')) return 'the path does not start with /'
  if (path.length > MAX_MATCHED_PATH_LENGTH)
    return `the path is longer than ${MAX_MATCHED_PATH_LENGTH} characters`
  const split = splitGatePath(`/policy${path}`)
  if (!split.ok) return `the gate refuses it (${split.detail})`
  if (split.hasQuery || split.path !== path) return 'the path is not in canonical form (the gate refuses it)'
  return null
}

/**
 * Spaces, controls and non-ASCII characters: a gate path never holds one (the HTTP parser refuses
 * them raw; clients send them percent-encoded, `é` as `%C3%A9`), so a pattern that does matches
 * nothing there, or is dead text beside what does.
 */
const NEVER_IN_A_PATH = /[^\x21-\x7e]/u

export type CompiledPattern = { ok: true; pattern: PathPattern } | { ok: false; reason: string }

/** What a glob or route-template habit meant, in regular-expression terms. */
const GLOB_HINT =
  'patterns are regular expressions, not globs: write /.* for any path below, [^/]+ for one segment'

function invalidRegex(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  // V8: "Invalid regular expression: /(a/u: Unterminated group" → "Unterminated group"
  const detail = message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')
  // `/api/**`, `*/x` (globs) and `/users/{id}` (route templates) fail with these.
  const glob = /^(Nothing to repeat|Incomplete quantifier|Lone quantifier brackets)$/.test(detail)
  return `invalid regular expression: ${detail}${glob ? ` (${GLOB_HINT})` : ''}`
}

/** True when some `/` in the pattern is repeated by `*`: `/api/*` is a glob habit, not a wish. */
function repeatsSlash(alternatives: readonly (readonly RegexNode[])[]): boolean {
  for (const sequence of alternatives) {
    for (const node of sequence) {
      if (node.kind === 'group' && repeatsSlash(node.alternatives)) return true
      if (node.kind !== 'repeat') continue
      const inner = node.node
      if (node.min === 0 && node.max === Number.POSITIVE_INFINITY && inner.kind === 'chars') {
        if (single(inner.set) === 0x2f) return true
      }
      if (inner.kind === 'group' && repeatsSlash(inner.alternatives)) return true
    }
  }
  return false
}

/**
 * Compiles one path pattern. A pattern without regex metacharacters is compared exactly; anything
 * else must be a valid Unicode-mode regular expression without backtracking risk.
 */
export function compilePathPattern(source: string, line: number): CompiledPattern {
  if (source.length === 0) return { ok: false, reason: 'empty path pattern' }
  if (source.length > MAX_PATTERN_LENGTH) {
    return { ok: false, reason: `path pattern longer than ${MAX_PATTERN_LENGTH} characters` }
  }
  const odd = NEVER_IN_A_PATH.exec(source)
  if (odd !== null) {
    const code = (odd[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
    return {
      ok: false,
      reason: `path pattern holds U+${code} (a space, control or non-ASCII character), which a gate path never does: write it percent-encoded as clients send it (é is %C3%A9)`,
    }
  }
  if (!METACHARACTERS.test(source)) {
    if (!source.startsWith('/')) {
      return { ok: false, reason: `path pattern "${source}" can never match: gate paths start with /` }
    }
    const problem = canonicalPathProblem(source)
    if (problem !== null) return { ok: false, reason: `path pattern "${source}" can never match: ${problem}` }
    return {
      ok: true,
      pattern: { source, line, matches: (path) => path.length <= MAX_MATCHED_PATH_LENGTH && path === source },
    }
  }
  let regex: RegExp
  try {
    // Alone first: the wrapper must not let a pattern close the group early (`a)|(b`).
    new RegExp(source, 'u')
    regex = new RegExp(`^(?:${source})$`, 'u')
  } catch (error) {
    return { ok: false, reason: invalidRegex(error) }
  }
  const parsed = parseRegex(source)
  if (repeatsSlash(parsed)) {
    // It matched only `/api`, `/api/`, `/api//`: an operator who meant every path below got nothing.
    return { ok: false, reason: `"/*" repeats the slash: ${GLOB_HINT}` }
  }
  const risk = backtrackingRisk(parsed)
  if (risk !== null) return { ok: false, reason: risk }
  if (!canStartWithSlash(parsed)) {
    return { ok: false, reason: `path pattern "${source}" can never match: gate paths start with /` }
  }
  const prefix = literalPrefix(source)
  return {
    ok: true,
    pattern: {
      source,
      line,
      matches: (path) =>
        path.length <= MAX_MATCHED_PATH_LENGTH && path.startsWith(prefix) && regex.test(path),
    },
  }
}
