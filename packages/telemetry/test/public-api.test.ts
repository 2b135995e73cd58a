import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable. telemetry is the metrics face of one gate or MCP server: createTelemetry, the Telemetry class it returns, the fixed buckets and the label mappers. A new export must be added here on purpose.
describe('@aegis/telemetry public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'ANONYMOUS_AGENT',
        'BYTE_BUCKETS',
        'DROPPED_DEFAULT_METRICS',
        'DURATION_BUCKETS',
        'Telemetry',
        'UNKNOWN_SERVICE',
        'codeLabel',
        'createTelemetry',
        'methodLabel',
      ].sort(),
    )
  })
})
