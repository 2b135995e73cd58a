import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { Secret } from '../src/index.js'

describe('Secret', () => {
  const s = new Secret('hunter2-value')

  it('reveals on request only', () => {
    expect(s.reveal()).toBe('hunter2-value')
    expect(String(s)).toBe('[REDACTED]')
    expect(`${s}`).toBe('[REDACTED]')
    expect(s.toString()).toBe('[REDACTED]')
    expect(JSON.stringify({ s })).toBe('{"s":"[REDACTED]"}')
    expect(inspect(s)).toBe('[REDACTED]')
    expect(inspect({ nested: { s } }, { depth: 5 })).not.toContain('hunter2')
    expect(inspect(s, { showHidden: true })).not.toContain('hunter2')
    expect(Object.keys(s)).toEqual([])
  })

  it('compares by value', () => {
    expect(s.equals(new Secret('hunter2-value'))).toBe(true)
    expect(s.equals('hunter2-value')).toBe(true)
    expect(s.equals('hunter2-valuE')).toBe(false)
    expect(s.equals('hunter2')).toBe(false)
    expect(s.equals('')).toBe(false)
  })
})
