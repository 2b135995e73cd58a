import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable. The zod schema object is internal (its type would make zod's API ours); a new export must be added here on purpose.
describe('@aegis/config public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'ConfigError',
        'DEFAULT_CONFIG_FILE',
        'LOG_FORMATS',
        'LOG_LEVELS',
        'LOG_REQUESTS',
        'MCP_TRANSPORTS',
        'RATE_LIMIT_FAILURE_MODES',
        'POLICY_DEFAULTS',
        'POLICY_MODES',
        'SECRET_MASK',
        'WEBHOOK_EVENTS',
        'decodeUtf8Text',
        'envVariables',
        'isPlaceholder',
        'placeholderVariable',
        'findConfigFile',
        'loadConfig',
        'parseResolveEntry',
        'removeYamlKey',
        'renderConfig',
        'starterConfigYaml',
        'yamlLineFinder',
        'yamlPlainValue',
        'yamlSyntaxProblem',
      ].sort(),
    )
  })
})
