import { describe, expect, it } from 'vitest'
import { isPlaceholder, placeholderVariable } from '../src/index.js'

describe('placeholders left from aegis mcp config', () => {
  it('recognises <…> values, whitespace around them included, and nothing else', () => {
    expect(isPlaceholder('<paste agent token>')).toBe(true)
    expect(isPlaceholder('  <paste AEGIS_PG_URL>\n')).toBe(true)
    expect(isPlaceholder('aegis_<x>')).toBe(false)
    expect(isPlaceholder('<half')).toBe(false)
    expect(isPlaceholder('')).toBe(false)
  })

  it('names the first AEGIS_* variable by name that holds one, ignoring other variables', () => {
    expect(
      placeholderVariable({
        OTHER: '<paste>',
        AEGIS_USER_TOKEN: '<paste user token>',
        AEGIS_AGENT_TOKEN: '<paste agent token>',
        AEGIS_VAULT: 'default',
        AEGIS_CONFIG: undefined,
      }),
    ).toBe('AEGIS_AGENT_TOKEN')
    expect(placeholderVariable({ AEGIS_VAULT: 'default', HOME: '<x>' })).toBeNull()
  })
})
