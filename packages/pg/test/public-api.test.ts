import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'
import * as testing from '../src/testing.js'

// The public surface is a promise to keep stable; a new export must be added here on purpose.
describe('@aegis/pg public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'AEGIS_SCHEMA',
        'CHANGES_CHANNEL',
        'CORE_MIGRATIONS',
        'ChangeFeed',
        'SchemaError',
        'assertSchemaCurrent',
        'migrate',
        'newerSchema',
        'openPool',
        'readSealState',
        'SEAL_TOPIC',
        'writeSealState',
        'schemaStatus',
      ].sort(),
    )
  })

  it('@aegis/pg/testing exports the scratch-database helper only', () => {
    expect(Object.keys(testing).sort()).toEqual(['scratchDatabase'])
  })
})
