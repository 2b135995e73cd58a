/**
 * Reading a policy file's YAML with positions: the plain value, a line finder for field paths,
 * and a best-effort agent name even when the rest of the file is broken.
 */
import { yamlLineFinder, yamlPlainValue, yamlSyntaxProblem } from '@aegis/config'
import { LineCounter, parseDocument } from 'yaml'

export type FieldPath = readonly (string | number)[]

export interface YamlSource {
  /** The document as plain data (undefined when the YAML itself is invalid). */
  value: unknown
  /** The first YAML syntax error, if any, with the key it is about (a duplicate key) when known. */
  syntax: { line: number; path: FieldPath | null; reason: string } | null
  /** 1-based line of the field at `path`, or of its nearest ancestor present in the file. */
  lineOf(path: FieldPath): number
}

const MAX_ALIASES = 50

/** Parses YAML text with line positions. Never throws. */
export function readYaml(text: string): YamlSource {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const lineOf = yamlLineFinder(doc, lines)
  const error = doc.errors[0]
  if (error) {
    const problem = yamlSyntaxProblem(doc, error, lines)
    const path = problem.path?.filter((p): p is string | number => typeof p !== 'symbol') ?? null
    return { value: undefined, syntax: { line: problem.line, path, reason: problem.reason }, lineOf }
  }
  const plain = yamlPlainValue(doc, lines, MAX_ALIASES)
  if (plain.ok) return { value: plain.value, syntax: null, lineOf }
  const { line, reason } = plain.problem
  return { value: undefined, syntax: { line, path: null, reason }, lineOf }
}

const AGENT_LINE = /^agent:[ \t]*(["']?)([A-Za-z0-9][A-Za-z0-9._-]{0,63})\1[ \t]*(#.*)?$/m

/**
 * The agent a (possibly broken) policy file is for: its top-level `agent` value when that is a
 * valid name, else a top-level `agent: name` line; null when neither can be read.
 */
export function readAgentName(
  text: string,
  value: unknown,
  isAgentName: (name: string) => boolean,
): string | null {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const agent = (value as Record<string, unknown>).agent
    if (typeof agent === 'string' && isAgentName(agent)) return agent
  }
  const line = AGENT_LINE.exec(text)
  return line?.[2] !== undefined && isAgentName(line[2]) ? line[2] : null
}
