import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { stageFile, writeFileAtomic } from '../src/index.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-files-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('stageFile: the first half of an atomic write', () => {
  it.each([0o600, 0o644])(
    'writes a hidden temp file beside the target with mode %o, whatever the umask',
    (mode) => {
      const before = process.umask(0o077)
      try {
        const staged = stageFile(join(dir, 'aegis.config.yaml'), 'a: 1\n', mode)
        expect(staged.startsWith(join(dir, '.aegis.config.yaml.'))).toBe(true)
        expect(statSync(staged).mode & 0o777).toBe(mode)
        expect(readFileSync(staged, 'utf8')).toBe('a: 1\n')
      } finally {
        process.umask(before)
      }
    },
  )
})

describe('writeFileAtomic', () => {
  it('replaces the file with mode 0600 by default and leaves no temp file', () => {
    const file = join(dir, 'registry.json')
    writeFileSync(file, 'old', { mode: 0o644 })
    writeFileAtomic(file, 'new')
    expect(readFileSync(file, 'utf8')).toBe('new')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['registry.json'])
  })

  it('replaces a symlink at the target instead of writing through it', () => {
    const outside = join(dir, 'outside')
    writeFileSync(outside, 'untouched')
    const file = join(dir, 'registry.json')
    symlinkSync(outside, file)
    writeFileAtomic(file, 'new')
    expect(readFileSync(outside, 'utf8')).toBe('untouched')
    expect(readFileSync(file, 'utf8')).toBe('new')
  })
})
