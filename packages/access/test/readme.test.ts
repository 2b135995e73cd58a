import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { COMMAND_PERMISSIONS, PERMISSIONS, ROLES } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('README tables', () => {
  it('show every permission with exactly the roles of PERMISSIONS', () => {
    for (const p of PERMISSIONS) {
      const marks = ROLES.map((r) => ((p.roles as readonly string[]).includes(r) ? '✓' : '')).join(' | ')
      expect(readme).toContain(`| \`${p.permission}\` | ${p.description} | ${marks} |`)
    }
  })

  it('show every command with the permission of COMMAND_PERMISSIONS', () => {
    for (const [id, p] of Object.entries(COMMAND_PERMISSIONS)) {
      const cell = p === null ? 'open (no check)' : `\`${p}\``
      expect(readme).toContain(`| \`aegis ${id.replaceAll(':', ' ')}\` | ${cell} |`)
    }
  })

  it('open with the runnable example, verbatim', () => {
    const example = readFileSync(new URL('../examples/readme.mjs', import.meta.url), 'utf8')
    const first = /```js\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(first?.trim()).toBe(example.trim())
  })
})
