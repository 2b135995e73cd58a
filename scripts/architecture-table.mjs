#!/usr/bin/env node
// docs/ARCHITECTURE.md holds one table: every package, its purpose, the @aegis packages it depends
// on and its public API. This fails when a row and the package disagree, so the table cannot rot:
//   - a packages/<pkg>/ folder without a row (or a row for no package),
//   - "depends on" differing from the package.json `dependencies` on @aegis packages,
//   - "public API" differing from what src/index.ts exports (values and types, by name).
// Each failure says exactly what to add or remove. Prints one line per package and a final
// "N passed, N failed"; exits 1 if any failed. `--json <file>` writes the counts for CI.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const DOC = 'docs/ARCHITECTURE.md'
const HEADER = /^\|\s*package\s*\|\s*purpose\s*\|\s*depends on\s*\|\s*public API/i

/** Every name `src/index.ts` exports (values and types), from its `export { … } from` lists. */
export function exportedNames(indexSource) {
  const code = indexSource.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  if (/export\s+\*/.test(code)) throw new Error('src/index.ts uses `export *`: list the exports by name')
  const names = new Set()
  for (const match of code.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of match[1].split(',')) {
      const words = item
        .trim()
        .split(/\s+/)
        .filter((w) => w !== '' && w !== 'type')
      if (words.length === 0) continue
      names.add(words.at(-1)) // `a as b` exports b
    }
  }
  for (const match of code.matchAll(
    /export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|let|function|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g,
  )) {
    names.add(match[1])
  }
  return names
}

/** The table's rows by package name: `{ depends: Set, api: Set }` (backticked names in each cell). */
export function tableRows(markdown) {
  const lines = markdown.split('\n')
  const start = lines.findIndex((line) => HEADER.test(line))
  if (start === -1) return null
  const rows = new Map()
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith('|')) break
    const cells = line.split('|').slice(1, -1)
    const name = cells[0]?.match(/`(@aegis\/[\w-]+)`/)?.[1]
    if (!name) continue
    const names = (cell = '') =>
      new Set([...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/^type\s+/, '')))
    rows.set(name, { depends: names(cells[2]), api: names(cells[3]) })
  }
  return rows
}

const quoted = (names) => [...names].map((n) => `\`${n}\``).join(', ')

function difference(kind, actual, documented) {
  const add = [...actual].filter((n) => !documented.has(n)).sort()
  const remove = [...documented].filter((n) => !actual.has(n)).sort()
  const parts = []
  if (add.length > 0) parts.push(`add ${quoted(add)}`)
  if (remove.length > 0) parts.push(`remove ${quoted(remove)}`)
  return parts.length === 0 ? null : `${kind}: ${parts.join('; ')}`
}

export function checkTable(root = ROOT) {
  const rows = tableRows(readFileSync(join(root, DOC), 'utf8'))
  if (rows === null)
    return [{ name: DOC, problem: 'no "| package | purpose | depends on | public API |" table' }]
  const results = []
  const dirs = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'packages', d.name, 'package.json')))
    .map((d) => d.name)
    .sort()
  const seen = new Set()
  for (const dir of dirs) {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'))
    seen.add(pkg.name)
    const index = join(root, 'packages', dir, 'src', 'index.ts')
    const api = existsSync(index) ? exportedNames(readFileSync(index, 'utf8')) : new Set()
    const depends = new Set(Object.keys(pkg.dependencies ?? {}).filter((n) => n.startsWith('@aegis/')))
    const row = rows.get(pkg.name)
    if (row === undefined) {
      const needs = `depends on ${quoted(depends) || '—'}; public API ${quoted([...api].sort())}`
      results.push({
        name: `packages/${dir}`,
        problem: `${DOC} has no row for \`${pkg.name}\` (add one: ${needs})`,
      })
      continue
    }
    const problems = [
      difference('depends on', depends, row.depends),
      difference('public API', api, row.api),
    ].filter(Boolean)
    results.push({
      name: `packages/${dir}`,
      problem: problems.length === 0 ? null : `${DOC} row \`${pkg.name}\`: ${problems.join(' | ')}`,
    })
  }
  for (const name of rows.keys()) {
    if (!seen.has(name))
      results.push({ name, problem: `${DOC} has a row for \`${name}\`, which is no package here: remove it` })
  }
  return results
}

function main() {
  const jsonAt = process.argv.indexOf('--json')
  const results = checkTable()
  let passed = 0
  let failed = 0
  for (const { name, problem } of results) {
    if (problem === null) passed++
    else failed++
    console.log(`${name}: ${problem === null ? 'ok' : `FAILED: ${problem}`}`)
  }
  console.log(`ARCHITECTURE.md table: ${passed} passed, ${failed} failed`)
  if (jsonAt !== -1) {
    const report = {
      numPassedTests: passed,
      numFailedTests: failed,
      numPendingTests: 0,
      numTodoTests: 0,
      success: failed === 0,
    }
    writeFileSync(process.argv[jsonAt + 1], `${JSON.stringify(report)}\n`)
  }
  process.exitCode = failed === 0 ? 0 : 1
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
