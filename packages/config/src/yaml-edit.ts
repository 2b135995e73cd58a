import { isDeepStrictEqual } from 'node:util'
import { isMap, isPair, isScalar, parse, parseDocument } from 'yaml'

/**
 * `text` without the key at `path` (a mapping key), every other line — comments, alignment, quoting
 * — left as it was; the key's line becomes the comment `note` (same indentation). Null when the key
 * is not there. The result is re-parsed and must equal the original minus that key; a layout the
 * line edit cannot handle (a flow mapping) falls back to re-rendering the document, which keeps
 * comments but may reflow spacing.
 */
export function removeYamlKey(text: string, path: readonly string[], note: string): string | null {
  const doc = parseDocument(text)
  const parent = doc.getIn(path.slice(0, -1), true)
  const last = path[path.length - 1]
  if (!isMap(parent)) return null
  const pair = parent.items.find(
    (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === last,
  )
  if (!pair || !isScalar(pair.key) || !pair.key.range) return null

  const expected = parse(text) as Record<string, unknown>
  deleteIn(expected, path)
  const keyStart = pair.key.range[0]
  const valueEnd =
    (pair.value as { range?: [number, number, number] } | null)?.range?.[1] ?? pair.key.range[1]
  const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1
  const newline = text.indexOf('\n', Math.max(valueEnd - 1, keyStart))
  const lineEnd = newline === -1 ? text.length : newline + 1
  const indent = text.slice(lineStart, keyStart)
  const edited = `${text.slice(0, lineStart)}${/^\s*$/.test(indent) ? indent : ''}# ${note}\n${text.slice(lineEnd)}`
  if (/^\s*$/.test(indent) && isDeepStrictEqual(normalise(parse(edited)), normalise(expected))) return edited

  doc.deleteIn(path)
  const rendered = doc.toString()
  if (!isDeepStrictEqual(normalise(parse(rendered)), normalise(expected))) {
    throw new Error(`Could not remove ${path.join('.')} from the YAML without changing anything else`)
  }
  return rendered
}

function deleteIn(value: Record<string, unknown>, path: readonly string[]): void {
  let node: unknown = value
  for (const key of path.slice(0, -1)) node = (node as Record<string, unknown> | null)?.[key]
  if (node && typeof node === 'object')
    delete (node as Record<string, unknown>)[path[path.length - 1] as string]
}

/** An emptied mapping reads back as null: the two are the same configuration. */
function normalise(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}), (_k, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? null : v,
  )
}
