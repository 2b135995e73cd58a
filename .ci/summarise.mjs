// Sums every package's vitest JSON report into the one closing line CI reads.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

let passed = 0
let failed = 0
let skipped = 0
/** Failed tests, named with their first message line: the end of a CI log is often all one sees. */
const failures = []
const firstLine = (text) => (text.split('\n').find((line) => line.trim()) ?? '').trim().slice(0, 300)
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
    for (const file of report.testResults ?? []) {
      const where = `${group}/${name}: ${file.name.split(`/${group}/${name}/`).pop()}`
      for (const test of file.assertionResults ?? []) {
        if (test.status === 'failed') {
          failures.push(
            `  ${where} > ${test.fullName}\n    ${firstLine((test.failureMessages ?? []).join('\n'))}`,
          )
        }
      }
      // A file that failed before any of its tests ran (an import error, a failing hook).
      if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) {
        failures.push(`  ${where}\n    ${firstLine(String(file.message ?? ''))}`)
      }
    }
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
if (failures.length > 0) console.log(`failed tests:\n${failures.join('\n')}`)
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
