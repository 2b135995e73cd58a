/**
 * PolicyError: one problem in one policy file, located by file, line and dotted field path.
 */

/** Where a policy problem is, and what it is. */
export interface PolicyErrorInfo {
  /** The policy file (as given to the parser or loader), or the directory for directory errors. */
  file: string
  /** 1-based line in the file, or null when the problem is not on a line (unreadable file). */
  line: number | null
  /** Dotted field path, e.g. `rules[0].paths[1]`; `''` for the file as a whole. */
  path: string
  /** The problem alone, without the location. */
  reason: string
}

/**
 * A policy file that cannot be used. The message is one line:
 * `policies/bot.yaml:7: rules[0].paths[1]: invalid regular expression: Unterminated group`.
 */
export class PolicyError extends Error implements PolicyErrorInfo {
  override readonly name = 'PolicyError'
  readonly file: string
  readonly line: number | null
  readonly path: string
  readonly reason: string

  constructor(info: PolicyErrorInfo) {
    super(formatPolicyError(info))
    this.file = info.file
    this.line = info.line
    this.path = info.path
    this.reason = info.reason
  }
}

/** `file:line: path: reason`, leaving out the parts that are unknown. */
export function formatPolicyError(info: PolicyErrorInfo): string {
  const where = info.line === null ? info.file : `${info.file}:${info.line}`
  const reason = info.reason.replace(/\s*[\r\n]+\s*/g, ' ')
  return info.path === '' ? `${where}: ${reason}` : `${where}: ${info.path}: ${reason}`
}
