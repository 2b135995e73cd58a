import type { z } from 'zod'

/** Where a configuration problem came from, when known. */
export interface ConfigErrorDetails {
  file?: string | null
  key?: string | null
  line?: number | null
  variable?: string | null
  problems?: readonly string[]
}

/**
 * An invalid or unreadable configuration. The message is one line naming the file (and line)
 * or the environment variable, and the dotted key path. It never contains a secret value.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  /** Absolute path of the config file involved, or null (env/flags/no file). */
  readonly file: string | null
  /** Dotted key path (`gate.port`, `webhooks[0].url`), or null. */
  readonly key: string | null
  /** 1-based line in the file, or null. */
  readonly line: number | null
  /** Environment variable that supplied the bad value, or null. */
  readonly variable: string | null
  /** Every problem found (one line each); the first is `message`. */
  readonly problems: readonly string[]

  constructor(message: string, details: ConfigErrorDetails = {}) {
    super(message)
    this.file = details.file ?? null
    this.key = details.key ?? null
    this.line = details.line ?? null
    this.variable = details.variable ?? null
    this.problems = details.problems ?? [message]
  }
}

export type KeyPath = readonly PropertyKey[]

/** One flattened validation problem. */
export interface Problem {
  /** Where the problem is (for finding its line). */
  path: KeyPath
  /** The dotted key path as shown to users. */
  key: string
  message: string
  unknownKey: boolean
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `['webhooks', 0, 'url']` → `webhooks[0].url`; odd keys are quoted: `resolve["a.b:443"]`. */
export function formatKey(path: KeyPath): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else if (IDENTIFIER.test(String(part))) out += out === '' ? String(part) : `.${String(part)}`
    else out += `[${JSON.stringify(String(part))}]`
  }
  return out
}

/** The message of a required key that is absent. */
export const MISSING_KEY = 'required key is missing'

function cleanMessage(message: string): string {
  if (/received undefined$/.test(message)) return MISSING_KEY
  return message.replace(/^Invalid input: /, '')
}

/**
 * Config keys are short snake_case words; an unknown key that is not (a pasted secret used as a key,
 * say) is described by its length, not repeated.
 */
export const PLAUSIBLE_KEY = /^[a-z_][a-z0-9_-]{0,31}$/

/** A union branch that failed only because the value had another type at its root. */
function wrongTypeOnly(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.every((issue) => issue.path.length === 0 && issue.code === 'invalid_type')
}

/** Turns zod issues into one problem per unknown key / bad value, descending into unions. */
export function flattenIssues(issues: readonly z.core.$ZodIssue[], base: KeyPath = []): Problem[] {
  const out: Problem[] = []
  for (const issue of issues) {
    const path = [...base, ...issue.path]
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const shown = PLAUSIBLE_KEY.test(key)
          ? formatKey([...path, key])
          : [formatKey(path), `<${key.length}-character name>`].filter(Boolean).join('.')
        out.push({ path: [...path, key], key: shown, message: 'unknown key', unknownKey: true })
      }
    } else if (issue.code === 'invalid_union') {
      const branch = issue.errors.find((branchIssues) => !wrongTypeOnly(branchIssues))
      if (branch) out.push(...flattenIssues(branch, path))
      else out.push({ path, key: formatKey(path), message: cleanMessage(issue.message), unknownKey: false })
    } else {
      out.push({ path, key: formatKey(path), message: cleanMessage(issue.message), unknownKey: false })
    }
  }
  return out
}
