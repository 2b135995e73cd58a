import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable. `toGateRequest`, `serveStdio` and the config mapping are internals of the tools and `startMcp` (issue 13); a new export must be added here on purpose.
describe('@aegis/mcp public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'DEFAULT_MAX_RESPONSE_BYTES',
        'HEALTH_TOOL',
        'HTTP_METHODS',
        'LIST_SERVICES_TOOL',
        'MCP_PACKAGE_VERSION',
        'McpStartError',
        'PROXY_REQUEST_TOOL',
        'createMcpHttpServer',
        'createMcpServer',
        'startMcp',
      ].sort(),
    )
  })
})
