import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
// The built package, as an embedder imports it (`pnpm build` first; turbo runs it before this suite).
const DIST = new URL('../dist/index.js', import.meta.url).href

// A gate without a `logger` option that starts, answers (refuses) a request and stops. Loading the
// source, refusing and stopping each log at info or above when a logger is given.
const PROGRAM = `
import { createGate } from ${JSON.stringify(DIST)}
const gate = createGate({
  credentials: { loadAll: () => [], changeToken: () => '1' },
  audit: { append: async () => 1, complete() {}, system: async () => 1 },
  port: 0,
})
const { url } = await gate.listen()
const res = await fetch(url + '/nothing/here')
await res.arrayBuffer()
if (res.status < 400) throw new Error('expected a refusal, got ' + res.status)
await gate.close()
`

describe('the default logger', () => {
  it('writes nothing to stdout or stderr (a stdio MCP host reads stdout as protocol)', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', PROGRAM], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 20_000,
    })
    expect(stdout).toBe('')
    expect(stderr).toBe('')
  })
})
