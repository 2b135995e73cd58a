import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable. The matcher, inspection, redaction and decoding entry points; the views, encodings table and automaton are internals. A new export must be added here on purpose.
describe('@aegis/inspect public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'DEFAULT_MIN_LENGTH',
        'DEFAULT_REPLACEMENT',
        'DecodeError',
        'FORMATS',
        'RedactStream',
        'Redactor',
        'SecretMatcher',
        'buildMatcher',
        'containsSecret',
        'containsSecretIgnoringCase',
        'createDecoder',
        'createRedactor',
        'decodeBody',
        'decodeBodyAsync',
        'describeCoding',
        'inspectOutbound',
        'isDecodable',
        'listCodings',
        'mayHoldQuotedPrintable',
        'recordFraming',
        'redactBuffer',
        'redactParts',
        'redactStream',
        'redactText',
        'scan',
        'scanFormats',
      ].sort(),
    )
  })
})
