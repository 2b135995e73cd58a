import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml'

/** A field path into a YAML document: map keys and sequence indexes, as a schema issue names them. */
export type YamlPath = readonly PropertyKey[]

/**
 * Finds the 1-based line of the key (or sequence item) at a path in a parsed YAML document, or of
 * its nearest ancestor present in the file; the document's first line when nothing on the path is.
 * Keys compare as text: a schema reports the path of `8080:` as "8080" while YAML parsed the key as
 * the number 8080. Shared by the config file and policy files so their errors point alike.
 */
export function yamlLineFinder(doc: Document, lines: LineCounter): (path: YamlPath) => number {
  const lineAt = (node: unknown): number | null => {
    const range = (node as Partial<Node> | null | undefined)?.range
    return range ? lines.linePos(range[0]).line : null
  }
  /** Line of the key `path[n]` inside its parent, or null when absent. */
  const exact = (path: YamlPath): number | null => {
    if (path.length === 0) return lineAt(doc.contents)
    const parent = doc.getIn(path.slice(0, -1), true)
    const last = String(path[path.length - 1])
    if (isMap(parent)) {
      const pair = parent.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === last,
      )
      return pair ? (lineAt(pair.key) ?? lineAt(pair.value)) : null
    }
    if (isSeq(parent)) {
      const index = path[path.length - 1]
      return typeof index === 'number' ? lineAt(parent.items[index]) : null
    }
    return null
  }
  return (path) => {
    for (let length = path.length; length >= 0; length--) {
      const line = exact(path.slice(0, length))
      if (line !== null) return line
    }
    return 1
  }
}
