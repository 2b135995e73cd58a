// Sums every package's vitest JSON report into the one closing line CI reads.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

let passed = 0
let failed = 0
let skipped = 0
for (const group of ['packages', 'apps', 'tests']) {
  if (!existsSync(group)) continue
  for (const name of readdirSync(group)) {
    const file = join(group, name, '.vitest-results.json')
    if (!existsSync(file)) continue
    const report = JSON.parse(readFileSync(file, 'utf8'))
    passed += report.numPassedTests
    failed += report.numFailedTests + (report.success === false && report.numFailedTests === 0 ? 1 : 0)
    skipped += report.numPendingTests + report.numTodoTests
    console.log(`${group}/${name}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`)
  }
}
// The documentation checks, one pass or failure per package: README examples
// (scripts/readme-examples.mjs) and the ARCHITECTURE.md table (scripts/architecture-table.mjs).
for (const [label, file] of [
  ['README examples', '.readme-examples-results.json'],
  ['ARCHITECTURE.md table', '.architecture-table-results.json'],
]) {
  if (!existsSync(file)) {
    failed += 1
    console.log(`${label}: no results (the step did not run)`)
    continue
  }
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests
  failed += report.numFailedTests
  console.log(`${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`)
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
