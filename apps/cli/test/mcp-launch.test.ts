import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { installedFromRegistry, mcpLaunch } from '../src/lib/mcp-launch.js'
import { removeDir, tempDir } from './helpers/run-cli.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) removeDir(d)
})

/** A CLI package under `<prefix>/node_modules/@aegis/cli`, with npm's hidden lockfile recording `resolved`. */
function installed(resolved: string | undefined): string {
  const prefix = tempDir()
  dirs.push(prefix)
  const root = join(prefix, 'node_modules', '@aegis', 'cli')
  mkdirSync(root, { recursive: true })
  const entry = resolved === undefined ? {} : { resolved }
  writeFileSync(
    join(prefix, 'node_modules', '.package-lock.json'),
    JSON.stringify({ packages: { 'node_modules/@aegis/cli': { version: '0.1.0', ...entry } } }),
  )
  return root
}

describe('mcpLaunch', () => {
  const table: [string, string | undefined, boolean][] = [
    ['registry tarball (https)', 'https://registry.npmjs.org/@aegis/cli/-/cli-0.1.0.tgz', true],
    ['private registry (http)', 'http://npm.internal:4873/@aegis/cli/-/cli-0.1.0.tgz', true],
    ['packed tarball', 'file:../aegis-cli-0.1.0.tgz', false],
    ['folder install', 'file:../../src/aegis/apps/cli', false],
    ['git', 'git+ssh://git@github.com/x/aegis.git#abc', false],
    ['no resolved field', undefined, false],
  ]
  for (const [name, resolved, registry] of table) {
    it(`${name}: ${registry ? 'npx -y @aegis/mcp-server' : 'this CLI by absolute path'}`, () => {
      const root = installed(resolved)
      expect(installedFromRegistry(root)).toBe(registry)
      expect(mcpLaunch(root)).toEqual(
        registry
          ? { command: 'npx', args: ['-y', '@aegis/mcp-server'] }
          : { command: process.execPath, args: [join(root, 'bin/run.js'), 'mcp', 'serve'] },
      )
    })
  }

  it('a checkout or link (no node_modules around it, or no hidden lockfile) is not a registry install', () => {
    const dir = tempDir()
    dirs.push(dir)
    expect(installedFromRegistry(dir)).toBe(false)
    const bare = join(dir, 'node_modules', '@aegis', 'cli')
    mkdirSync(bare, { recursive: true })
    expect(installedFromRegistry(bare)).toBe(false)
    writeFileSync(join(dir, 'node_modules', '.package-lock.json'), '{not json')
    expect(installedFromRegistry(bare)).toBe(false)
  })
})
