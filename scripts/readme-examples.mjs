#!/usr/bin/env node
// Every package README opens with a runnable example (issue 13). For each packages/<pkg>/ folder
// (found, not listed, so a new package is checked from its first commit) this fails when:
//   - packages/<pkg>/examples/readme.mjs is missing,
//   - the README's first fenced code block is not a ```js block holding exactly that file's text,
//   - `node examples/readme.mjs` (run from the package folder, so `@aegis/<pkg>` resolves to the
//     package itself, built) exits non-zero or runs over 30 s.
// Prints one line per package and a final "N passed, N failed"; exits 1 if any failed.
// `--json <file>` also writes the counts for the CI summary. `--fix` first copies each
// examples/readme.mjs into its README's first ```js block (after `biome check --write`, say).
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const TIMEOUT_MS = 30_000

/** The first fenced code block of a Markdown text: its info string and its exact content. */
export function firstFence(markdown) {
  const lines = markdown.split('\n')
  const start = lines.findIndex((line) => /^ {0,3}(`{3,}|~{3,})/.test(line))
  if (start === -1) return null
  const open = lines[start].trimStart()
  const fence = open.match(/^(`{3,}|~{3,})/)[1]
  const info = open.slice(fence.length).trim()
  // The closing fence: the same character, at least as many, nothing else on the line.
  const closing = new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`)
  const end = lines.findIndex((line, i) => i > start && closing.test(line))
  if (end === -1) return { info, content: null, start, end }
  return { info, content: `${lines.slice(start + 1, end).join('\n')}\n`, start, end }
}

/** Where two texts first differ, as "line N: expected … got …". */
function firstDifference(expected, actual) {
  const a = expected.split('\n')
  const b = actual.split('\n')
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return `line ${i + 1}: examples/readme.mjs has ${JSON.stringify(a[i] ?? '<end>')}, the README ${JSON.stringify(b[i] ?? '<end>')}`
  }
  return 'they differ'
}

function run(dir) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['examples/readme.mjs'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(null)
      else {
        const why =
          signal === 'SIGKILL' ? `timed out after ${TIMEOUT_MS / 1000} s` : `exited ${code ?? signal}`
        const tail = output.trim().split('\n').slice(-8).join('\n    ')
        resolve(`node examples/readme.mjs ${why}${tail ? `:\n    ${tail}` : ''}`)
      }
    })
  })
}

/** Rewrites the README's first ```js block with the example's text (the `--fix` mode). */
function syncReadme(dir) {
  const example = join(dir, 'examples', 'readme.mjs')
  const readmeFile = join(dir, 'README.md')
  if (!existsSync(example) || !existsSync(readmeFile)) return
  const markdown = readFileSync(readmeFile, 'utf8')
  const block = firstFence(markdown)
  if (block === null || block.info !== 'js' || block.content === null) return
  const lines = markdown.split('\n')
  const source = readFileSync(example, 'utf8').replace(/\n$/, '').split('\n')
  lines.splice(block.start + 1, block.end - block.start - 1, ...source)
  writeFileSync(readmeFile, lines.join('\n'))
}

/** Why this package's README example fails, or null. */
export async function checkPackage(dir) {
  const example = join(dir, 'examples', 'readme.mjs')
  if (!existsSync(example)) return 'examples/readme.mjs is missing'
  const readmeFile = join(dir, 'README.md')
  if (!existsSync(readmeFile)) return 'README.md is missing'
  const block = firstFence(readFileSync(readmeFile, 'utf8'))
  if (block === null)
    return 'README.md has no fenced code block (its first must be examples/readme.mjs, as ```js)'
  if (block.info !== 'js')
    return `the README's first fenced block is \`\`\`${block.info}, not \`\`\`js holding examples/readme.mjs`
  if (block.content === null) return "the README's first fenced block is not closed"
  const source = readFileSync(example, 'utf8')
  if (block.content !== source)
    return `the README's first block differs from examples/readme.mjs (${firstDifference(source, block.content)})`
  return run(dir)
}

async function main() {
  const jsonAt = process.argv.indexOf('--json')
  const jsonFile = jsonAt === -1 ? null : process.argv[jsonAt + 1]
  const fix = process.argv.includes('--fix')
  const packages = join(ROOT, 'packages')
  const dirs = readdirSync(packages, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(packages, d.name, 'package.json')))
    .map((d) => d.name)
    .sort()
  let passed = 0
  let failed = 0
  for (const name of dirs) {
    if (fix) syncReadme(join(packages, name))
    const problem = await checkPackage(join(packages, name))
    if (problem === null) passed++
    else failed++
    console.log(`packages/${name}: ${problem === null ? 'ok' : `FAILED: ${problem}`}`)
  }
  console.log(`README examples: ${passed} passed, ${failed} failed`)
  if (jsonFile) {
    const report = {
      numPassedTests: passed,
      numFailedTests: failed,
      numPendingTests: 0,
      numTodoTests: 0,
      success: failed === 0,
    }
    writeFileSync(jsonFile, `${JSON.stringify(report)}\n`)
  }
  process.exitCode = failed === 0 ? 0 : 1
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
