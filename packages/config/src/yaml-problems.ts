import {
  type Alias,
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  visit,
  type YAMLError,
} from 'yaml'
import type { YamlPath } from './yaml-lines.js'

/** A YAML error located for a one-line message: line, the key it is about (when known), reason. */
export interface YamlProblem {
  line: number
  /** The key path the problem is about (`['rules', 0, 'service']`), or null when it is not one key's. */
  path: YamlPath | null
  reason: string
}

/** yaml messages of these kinds quote source text (maybe a secret): describe them generically. */
const QUOTING_ERRORS: Partial<Record<YAMLError['code'], string>> = {
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_SCALAR_START: 'a plain value cannot start with this character (quote the value)',
  UNEXPECTED_TOKEN: 'unexpected token',
  TAG_RESOLVE_FAILED: 'unresolved tag',
  BAD_PROP_ORDER: 'anchors and tags must come after the indicator',
}

function summary(error: YAMLError): string {
  const generic = QUOTING_ERRORS[error.code]
  if (generic) return generic
  // Only the position is cut: the messages that quote text are generic above, and cutting at the
  // first ": " left "Missing , or" of "Missing , or : between flow map items".
  const first = error.message.split('\n')[0] ?? ''
  return first.replace(/ at line \d+, column \d+:?.*$/, '') || error.code
}

interface DuplicateKey {
  path: YamlPath
  /** Offset of the key's first occurrence in the same mapping. */
  firstAt: number
}

/** The path of the mapping key that starts at `offset`, and where that key first appears. */
function duplicateKeyAt(node: unknown, offset: number, path: YamlPath): DuplicateKey | null {
  if (isMap(node)) {
    for (const [i, pair] of node.items.entries()) {
      if (!isPair(pair)) continue
      const key = isScalar(pair.key) ? String(pair.key.value) : null
      if (key !== null && isScalar(pair.key) && pair.key.range?.[0] === offset) {
        const first = node.items
          .slice(0, i)
          .find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key)
        const firstKey = first && isScalar(first.key) ? first.key : null
        return { path: [...path, key], firstAt: firstKey?.range?.[0] ?? offset }
      }
      const inner = key === null ? null : duplicateKeyAt(pair.value, offset, [...path, key])
      if (inner) return inner
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const inner = duplicateKeyAt(item, offset, [...path, i])
      if (inner) return inner
    }
  }
  return null
}

/**
 * Locates a yaml parse error for a one-line message that never quotes the file's text. A
 * duplicate key names its key path and the line of its first occurrence (`Map keys must be
 * unique` named neither), and a second document is described in the file's terms. Shared by the
 * config file and policy files so their messages agree.
 */
export function yamlSyntaxProblem(doc: Document, error: YAMLError, lines: LineCounter): YamlProblem {
  const line = lines.linePos(error.pos[0]).line
  if (error.code === 'DUPLICATE_KEY') {
    const duplicate = duplicateKeyAt(doc.contents, error.pos[0], [])
    if (duplicate) {
      return {
        line,
        path: duplicate.path,
        reason: `duplicate key (first on line ${lines.linePos(duplicate.firstAt).line}): each key may appear once`,
      }
    }
  }
  if (error.code === 'MULTIPLE_DOCS') {
    // yaml's own words ("please use YAML.parseAllDocuments()") are advice for a programmer.
    return {
      line,
      path: null,
      reason: 'YAML syntax error: a second document starts here (after ---): the file must hold one',
    }
  }
  return { line, path: null, reason: `YAML syntax error: ${summary(error)}` }
}

/** The document as plain data, or why it cannot be: an alias that names no anchor, or an alias bomb. */
export type YamlValue = { ok: true; value: unknown } | { ok: false; problem: YamlProblem }

/**
 * `doc.toJS()` with at most `maxAliasCount` alias expansions. When that throws, the problem names
 * the line of the alias at fault (the first alias whose anchor is not defined before it, else the
 * first alias of the document) instead of no line at all.
 */
export function yamlPlainValue(doc: Document, lines: LineCounter, maxAliasCount: number): YamlValue {
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount }) }
  } catch {
    const aliases: Alias[] = []
    visit(doc, {
      Alias(_, node) {
        aliases.push(node)
      },
    })
    const unresolved = aliases.find((alias) => alias.resolve(doc) === undefined)
    const at = unresolved ?? aliases[0]
    const line = at?.range ? lines.linePos(at.range[0]).line : 1
    const reason =
      unresolved !== undefined
        ? 'YAML error: an alias (*name) refers to no anchor (&name) defined before it'
        : 'YAML error: aliases expand into too many nodes: an alias bomb is refused'
    return { ok: false, problem: { line, path: null, reason } }
  }
}
