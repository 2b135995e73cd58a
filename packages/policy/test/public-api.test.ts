import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable. The loader's file listing, path-pattern limits, agent-name and time-window checks are internals (issue 13); a new export must be added here on purpose.
describe('@aegis/policy public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'EMPTY_POLICY_SET',
        'MAX_POLICY_FILE_SIZE',
        'POLICY_METHODS',
        'PolicyError',
        'PolicyWatcher',
        'checkPolicy',
        'decideForAgent',
        'evaluatePolicy',
        'formatPolicyError',
        'loadPolicyDir',
        'parsePolicy',
      ].sort(),
    )
  })
})
