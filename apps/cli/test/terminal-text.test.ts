import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initProject, type Project, parseJson, removeDir } from './helpers/run-cli.js'

/**
 * The CLI's tables are read in a terminal. A ledger row stored as the agent sent it (by a gate
 * from before the sanitiser escaped every invisible character, or another gate writing the same
 * PostgreSQL ledger) must neither drive the terminal nor reorder or hide text there.
 */
const E = '\u001b'
const PATH = `/x${E}]8;;https://evil.test/${E}\\click${E}]8;;${E}\\${E}]52;c;ZWNobyBw\u0007\rOK\u202etxt.exe\u200f`
const SERVICE = `svc${E}[2J\u2066`

let project: Project
beforeAll(async () => {
  project = await initProject()
  const ledger = openLedger({ file: join(project.dataDir, 'ledger.db') })
  await ledger.append({
    requestId: 'r-terminal',
    channel: 'mcp',
    service: SERVICE,
    targetHost: `evil.test${E}[31m`,
    method: 'GET',
    path: PATH,
    decision: 'blocked',
    code: 'bad_request',
    status: 400,
  })
  await ledger.close()
})
afterAll(() => removeDir(project.dir))

/** Every character that drives or hides (controls but the line feed, bidi, zero-width). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not appear
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/

describe('CLI tables show stored agent text escaped', () => {
  it('ledger show: no control or bidi character reaches the terminal; the escapes show what was sent', async () => {
    const shown = await project.run(['ledger', 'show'])
    expect(shown.code, shown.stderr).toBe(0)
    const row = shown.stdout.split('\n').find((l) => l.includes('bad_request')) ?? ''
    expect(row).not.toMatch(UNPRINTABLE)
    expect(row).toContain(
      '/x\\u001b]8;;https://evil.test/\\u001b\\click\\u001b]8;;\\u001b\\\\u001b]52;c;ZWNobyBw\\u0007\\u000dOK\\u202etxt.exe\\u200f',
    )
    expect(row).toContain('svc\\u001b[2J\\u2066')
  })

  it('ledger stats: the same for the per-service keys', async () => {
    const stats = await project.run(['ledger', 'stats'])
    expect(stats.code, stats.stderr).toBe(0)
    expect(stats.stdout).not.toMatch(UNPRINTABLE)
    expect(stats.stdout).toContain('  svc\\u001b[2J\\u2066 ')
  })

  it('ledger show --json stays valid JSON holding the stored value', async () => {
    const json = await project.run(['ledger', 'show', '--json'])
    expect(json.code, json.stderr).toBe(0)
    const [entry] = parseJson<Array<{ path: string; service: string }>>(json)
    expect(entry).toMatchObject({ path: PATH, service: SERVICE })
  })
})
