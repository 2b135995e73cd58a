import { readFileSync, statSync } from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import { ConfigError, formatKey, type KeyPath, PLAUSIBLE_KEY } from './errors.js'
import { decodeUtf8Text } from './text-file.js'
import { yamlLineFinder } from './yaml-lines.js'
import { yamlPlainValue, yamlSyntaxProblem } from './yaml-problems.js'

/** A parsed config file: its plain value plus a way to find the line of a key path. */
export interface ConfigFile {
  path: string
  /** The name used in messages (relative to cwd when inside it). */
  display: string
  /** Permission bits (`mode & 0o777`). */
  mode: number
  /** Top-level mapping, with YAML `null` values removed (an empty key means "not set"). */
  value: Record<string, unknown>
  /** 1-based line of the key (or item) at `path`, or of its nearest ancestor present in the file. */
  lineOf(path: KeyPath): number
}

const MAX_ALIASES = 100

/** Drops `null` map values recursively. Object.fromEntries never touches prototypes. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls)
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const entries = Object.entries(value).filter(([, v]) => v !== null)
    return Object.fromEntries(entries.map(([k, v]) => [k, withoutNulls(v)]))
  }
  return value
}

function fail(display: string, file: string, line: number | null, message: string, key?: string): never {
  const where = `${display}${line === null ? '' : `:${line}`}`
  throw new ConfigError(`${where}: ${key === undefined ? '' : `${key}: `}${message}`, { file, line, key })
}

/** A key path fit to print: one with anything but short snake_case words (a pasted secret) is not. */
function plausibleKey(path: KeyPath): string | undefined {
  return path.every((part) => typeof part === 'number' || PLAUSIBLE_KEY.test(String(part)))
    ? formatKey(path)
    : undefined
}

/**
 * Reads and parses a config file. YAML syntax errors and a non-mapping top level are ConfigErrors
 * naming the line; the message never quotes the file's text (it may hold a secret).
 */
export function readConfigFile(file: string, display: string): ConfigFile {
  let bytes: Buffer
  let mode: number
  try {
    const stat = statSync(file)
    if (!stat.isFile()) fail(display, file, null, 'not a regular file')
    mode = stat.mode & 0o777
    bytes = readFileSync(file)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error'
    fail(
      display,
      file,
      null,
      code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code})`,
    )
  }
  const decoded = decodeUtf8Text(bytes)
  if (!decoded.ok) fail(display, file, decoded.line, decoded.reason)
  const text = decoded.text
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const syntax = doc.errors[0]
  if (syntax) {
    const problem = yamlSyntaxProblem(doc, syntax, lines)
    const key = problem.path === null ? undefined : plausibleKey(problem.path)
    fail(display, file, problem.line, problem.reason, key)
  }
  const plain = yamlPlainValue(doc, lines, MAX_ALIASES)
  if (!plain.ok) fail(display, file, plain.problem.line, plain.problem.reason)
  let value = withoutNulls(plain.value)
  const lineOf = yamlLineFinder(doc, lines)
  if (value === undefined || value === null) value = {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    fail(display, file, lineOf([]), 'expected a mapping of sections (gate, vault, ...) at the top level')
  }
  return { path: file, display, mode, value: value as Record<string, unknown>, lineOf }
}
