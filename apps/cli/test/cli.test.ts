import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initProject, type Project, parseJson, removeDir, runCli } from './helpers/run-cli.js'

describe('aegis as an oclif CLI', () => {
  let p: Project
  beforeAll(async () => {
    p = await initProject()
  })
  afterAll(() => {
    if (p) removeDir(p.dir)
  })

  it('--version prints the package version', async () => {
    const r = await runCli(['--version'], { cwd: p.dir })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^@aegis\/cli\/0\.1\.0 /)
  })

  it('help, <topic> --help and help <command> list the commands', async () => {
    const root = await runCli(['help'], { cwd: p.dir })
    expect(root.code).toBe(0)
    expect(root.stdout).toMatch(/TOPICS[\s\S]*vault[\s\S]*COMMANDS[\s\S]*doctor[\s\S]*init/)
    const topic = await runCli(['vault', '--help'], { cwd: p.dir })
    expect(topic.code).toBe(0)
    for (const cmd of ['add', 'list', 'remove', 'rotate', 'update', 'create', 'vaults', 'destroy']) {
      expect(topic.stdout).toContain(`vault ${cmd}`)
    }
    const cmd = await runCli(['help', 'vault', 'add'], { cwd: p.dir })
    expect(cmd.code).toBe(0)
    expect(cmd.stdout).toContain('--secret')
    expect(cmd.stdout).toContain('--config')
    const colon = await runCli(['vault:list', '--json'], { cwd: p.dir, env: p.env })
    expect(colon.code).toBe(0)
  })

  it('an unknown command or flag is a usage error (exit 2)', async () => {
    const unknown = await runCli(['vault', 'explode'], { cwd: p.dir })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/command vault explode not found/)
    const flag = await p.run(['vault', 'list', '--verbose'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toMatch(/Nonexistent flag: --verbose/)
  })

  it('errors are one line without a stack; DEBUG=aegis* adds the stack', async () => {
    const plain = await p.run(['vault', 'list'], { env: { AEGIS_MASTER_KEY: 'wrong' } })
    expect(plain.code).toBe(1)
    expect(plain.stderr).toMatch(/^Error: Invalid master key: [^\n]+\n$/)
    const debug = await p.run(['vault', 'list'], { env: { AEGIS_MASTER_KEY: 'wrong', DEBUG: 'aegis*' } })
    expect(debug.code).toBe(1)
    expect(debug.stderr).toMatch(
      /^Error: Invalid master key: [^\n]+\nCliError: Invalid master key: [^\n]+\n\s+at /,
    )
    const other = await p.run(['vault', 'list'], { env: { AEGIS_MASTER_KEY: 'wrong', DEBUG: 'express:*' } })
    expect(other.stderr).toBe(plain.stderr)
  })

  it('with --json, a failure leaves stdout empty and reports on stderr', async () => {
    const r = await p.run(['vault', 'list', '--json'], { env: { AEGIS_MASTER_KEY: undefined } })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /^Error: AEGIS_MASTER_KEY is not set: export AEGIS_MASTER_KEY=<the key aegis init printed>[^\n]*\n$/,
    )
  })

  it('every --json output is exactly one JSON document', async () => {
    for (const args of [
      ['vault', 'list'],
      ['vault', 'vaults'],
      ['config', 'show'],
      ['config', 'validate'],
      ['doctor'],
    ]) {
      const r = await p.run([...args, '--json'])
      expect(r.code, args.join(' ')).toBe(0)
      expect(() => parseJson(r)).not.toThrow()
    }
  })
})
