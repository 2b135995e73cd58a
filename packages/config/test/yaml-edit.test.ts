import { describe, expect, it } from 'vitest'
import { removeYamlKey, starterConfigYaml } from '../src/index.js'

const NOTE = 'master_key: removed by aegis vault split'

describe('removeYamlKey', () => {
  it('replaces only the key line of the starter config, keeping every other line and comment', () => {
    const text = starterConfigYaml({ masterKey: 'k3y"with:odd#chars' })
    const out = removeYamlKey(text, ['vault', 'master_key'], NOTE) as string
    expect(out).not.toContain('k3y')
    const before = text.split('\n')
    const after = out.split('\n')
    expect(after.length).toBe(before.length)
    const changed = before.map((line, i) => [line, after[i]]).filter(([a, b]) => a !== b)
    expect(changed).toEqual([[`  master_key: ${JSON.stringify('k3y"with:odd#chars')}`, `  # ${NOTE}`]])
  })

  it('handles a block scalar value, a trailing comment and a last line without newline', () => {
    const text = 'vault:\n  name: x\n  master_key: |\n    line1\n    line2\n  data_dir: ./d # here\n'
    expect(removeYamlKey(text, ['vault', 'master_key'], NOTE)).toBe(
      `vault:\n  name: x\n  # ${NOTE}\n  data_dir: ./d # here\n`,
    )
    expect(removeYamlKey('vault:\n  master_key: abc', ['vault', 'master_key'], NOTE)).toBe(
      `vault:\n  # ${NOTE}\n`,
    )
  })

  it('falls back to re-rendering a flow mapping, and returns null when the key is absent', () => {
    const out = removeYamlKey('vault: {name: x, master_key: abc}\n', ['vault', 'master_key'], NOTE) as string
    expect(out).not.toContain('abc')
    expect(out).toContain('name: x')
    expect(removeYamlKey('vault:\n  name: x\n', ['vault', 'master_key'], NOTE)).toBeNull()
    expect(removeYamlKey('gate: {}\n', ['vault', 'master_key'], NOTE)).toBeNull()
  })
})
