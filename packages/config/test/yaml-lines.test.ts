import { describe, expect, it } from 'vitest'
import { LineCounter, parseDocument } from 'yaml'
import { type YamlPath, yamlLineFinder } from '../src/index.js'

function finder(text: string): (path: YamlPath) => number {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines })
  return yamlLineFinder(doc, lines)
}

const TEXT = [
  '# a comment',
  'gate:',
  '  port: 8080',
  '  ports:',
  '    8443: tls',
  'rules:',
  '  - methods: [GET]',
  '    paths:',
  '      - /a',
  '      - /b',
  '  - methods: [POST]',
].join('\n')

describe('yamlLineFinder: the line of a field path', () => {
  const rows: [string, YamlPath, number][] = [
    ['the document itself is its first node', [], 2],
    ['a top-level key', ['gate'], 2],
    ['a nested key', ['gate', 'port'], 3],
    ['a numeric key named as text (schemas report record keys as strings)', ['gate', 'ports', '8443'], 5],
    ['a numeric key named as a number', ['gate', 'ports', 8443], 5],
    ['a sequence item', ['rules', 1], 11],
    ['a key inside a sequence item', ['rules', 0, 'paths'], 8],
    ['an item of a nested sequence', ['rules', 0, 'paths', 1], 10],
    ['a missing key falls back to its nearest present ancestor', ['gate', 'nope', 'deeper'], 2],
    ['an index past the end falls back to the sequence', ['rules', 9], 6],
    ['a text index into a sequence falls back to the sequence', ['rules', '0'], 6],
    ['a key under a scalar falls back to the scalar', ['gate', 'port', 'x'], 3],
    ['a path missing from the top falls back to the document', ['absent'], 2],
  ]
  it.each(rows)('%s', (_why, path, line) => {
    expect(finder(TEXT)(path)).toBe(line)
  })

  it('an empty document answers line 1', () => {
    expect(finder('')(['gate', 'port'])).toBe(1)
  })
})
