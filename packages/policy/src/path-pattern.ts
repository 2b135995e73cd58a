/**
 * Path patterns: regular expressions matched against the whole canonical path
 * (`^(?:pattern)$`, Unicode mode), checked for backtracking risk when loaded.
 */
import { backtrackingRisk, canStartWithSlash } from './redos.js'
import type { PathPattern } from './types.js'

/** Longest pattern accepted. */
export const MAX_PATTERN_LENGTH = 1024
/** Paths longer than this never match a path pattern (the rule's other parts still apply). */
export const MAX_MATCHED_PATH_LENGTH = 4096

const METACHARACTERS = /[\\^$.|?*+()[\]{}]/

export type CompiledPattern = { ok: true; pattern: PathPattern } | { ok: false; reason: string }

function invalidRegex(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  // V8: "Invalid regular expression: /(a/u: Unterminated group" → "Unterminated group"
  const detail = message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')
  return `invalid regular expression: ${detail}`
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
  if (!METACHARACTERS.test(source)) {
    if (!source.startsWith('/')) {
      return { ok: false, reason: `path pattern "${source}" can never match: gate paths start with /` }
    }
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
  const risk = backtrackingRisk(source)
  if (risk !== null) return { ok: false, reason: risk }
  if (!canStartWithSlash(source)) {
    return { ok: false, reason: `path pattern "${source}" can never match: gate paths start with /` }
  }
  return {
    ok: true,
    pattern: {
      source,
      line,
      matches: (path) => path.length <= MAX_MATCHED_PATH_LENGTH && regex.test(path),
    },
  }
}
