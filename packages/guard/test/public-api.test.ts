import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable. guard is the pure-check library: every export is a check, a parser or the one problem builder the gate and the MCP adapter share. A new export must be added here on purpose.
describe('@aegis/guard public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'AGENT_TOKEN_PREFIX',
        'CREDENTIAL_REQUEST_HEADERS',
        'DEFAULT_PORT',
        'INTERNAL_SERVICE',
        'MIN_SECRET_BYTES',
        'PROBLEM_CONTENT_TYPE',
        'PROBLEM_TYPE_PREFIX',
        'REFUSAL_STATUS',
        'REFUSAL_TITLE',
        'RateLimiter',
        'SCOPES',
        'USER_TOKEN_PATTERN',
        'USER_TOKEN_PREFIX',
        'generateUserToken',
        'hashUserToken',
        'parseUserToken',
        'addressVerdict',
        'browserRefusal',
        'hostAllowed',
        'hostAllowlistProblem',
        'parseHostAllowlist',
        'redactUrlPassword',
        'defaultTarget',
        'escapeUnprintable',
        'findAllowlistMatch',
        'forwardRequestHeaders',
        'forwardResponseHeaders',
        'isHttpToken',
        'hashAgentToken',
        'headerCanCarry',
        'isAgentTokenShape',
        'isRefusalCode',
        'isScope',
        'matchesAllowlist',
        'normalizeHostname',
        'parseAllowList',
        'parseDomainPattern',
        'parseRate',
        'parseStoredSettings',
        'parseTargetHost',
        'problemDocument',
        'problemOf',
        'rateLimited',
        'refuse',
        'scopeAllows',
        'secretProblems',
        'splitGatePath',
      ].sort(),
    )
  })
})
