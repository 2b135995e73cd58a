import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const EXAMPLE = fileURLToPath(new URL('../../../examples/embed-gate/index.mjs', import.meta.url))

// The README's example, run as a user would (against the built package; turbo builds first).
describe('examples/embed-gate', () => {
  it('embeds createGate with an in-memory source; the upstream receives the injected credential', async () => {
    const { stdout, stderr } = await run(process.execPath, [EXAMPLE], {
      cwd: fileURLToPath(new URL('../../../examples/embed-gate/', import.meta.url)),
      timeout: 30_000,
    })
    expect(stdout).toContain('status 200')
    expect(stdout).toContain('upstream received the injected credential: yes')
    expect(stdout).toMatch(/^audit [0-9a-f-]{36} 200$/m)
    expect(stderr).toBe('')
  })
})
