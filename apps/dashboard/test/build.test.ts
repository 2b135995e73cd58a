import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The built SPA is what `aegis dashboard` serves under a strict CSP from any SPA path, and what the
 * CLI copies into its own dist: absolute /assets/ URLs, nothing inline, the same bytes every build.
 */
const root = fileURLToPath(new URL('..', import.meta.url))
const dirs: string[] = []

async function buildTo(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'aegis-dashboard-build-'))
  dirs.push(outDir)
  // vitest sets NODE_ENV=test, which would make this a development build; `pnpm build` has none.
  const env = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  try {
    await build({
      root,
      configFile: join(root, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true },
    })
  } finally {
    process.env.NODE_ENV = env
  }
  return outDir
}

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!name.isFile()) continue
    const full = join(name.parentPath, name.name)
    out[full.slice(dir.length + 1)] = readFileSync(full, 'utf8')
  }
  return out
}

let first: Record<string, string>
let second: Record<string, string>
beforeAll(async () => {
  first = files(await buildTo())
  second = files(await buildTo())
}, 120_000)
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('vite build output', () => {
  it('is index.html plus hashed assets, no source maps', () => {
    const names = Object.keys(first).sort()
    expect(names).toContain('index.html')
    for (const n of names.filter((n) => n !== 'index.html'))
      expect(n).toMatch(/^assets\/[\w-]+-[\w-]{8}\.(js|css)$/)
    expect(names.some((n) => n.endsWith('.map'))).toBe(false)
  })

  it('is deterministic: two builds give the same files and bytes', () => {
    expect(second).toEqual(first)
  })

  it('index.html loads only same-origin /assets/ files and has nothing inline (CSP default-src self)', () => {
    const html = first['index.html'] ?? ''
    const refs = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    const assets = refs.filter((r) => r !== 'data:,')
    expect(assets.length).toBeGreaterThanOrEqual(2)
    for (const ref of assets) {
      expect(ref).toMatch(/^\/assets\//)
      expect(first[(ref as string).slice(1)], ref).toBeDefined()
    }
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/)
    expect(html).not.toMatch(/<style/)
    expect(html).not.toMatch(/\sstyle="/)
  })

  it('the bundle holds no server code (type-only imports of @aegis/* are erased)', () => {
    const js = Object.entries(first)
      .filter(([n]) => n.endsWith('.js'))
      .map(([, t]) => t)
      .join('\n')
    // Booleans, not toMatch: a failure would print the whole bundle.
    expect(/better-sqlite3|drizzle|from"node:|import\("node:/.test(js)).toBe(false)
    expect(/\beval\(|new Function\(/.test(js)).toBe(false)
    expect(js.includes('X-Aegis-CSRF')).toBe(true)
    // A production React build: no development-only warnings shipped.
    expect(js.includes('is deprecated in plain JavaScript React classes')).toBe(false)
  })
})
