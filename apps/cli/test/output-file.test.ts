/**
 * Every command that creates a file the user named (`ledger export -o`, `init --config`) refuses a
 * path it cannot take with one wording: what is in the way and what to do. Nothing is overwritten,
 * and nothing half-made is left behind.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, initProject, type Project, removeDir, runCli, tempDir } from './helpers/run-cli.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir)
})

async function project(): Promise<Project> {
  const p = await initProject()
  dirs.push(p.dir)
  return p
}

describe('aegis ledger export -o', () => {
  it('refuses an existing file, a folder, a missing folder and a file in the way, each with the way out', async () => {
    const p = await project()
    writeFileSync(join(p.dir, 'audit.json'), 'kept\n')
    mkdirSync(join(p.dir, 'reports'))
    const cases: [string, string][] = [
      [
        'audit.json',
        'Error: File already exists: audit.json (Aegis never overwrites it: choose another path with -o, or remove it first)\n',
      ],
      ['reports', 'Error: reports is a folder: give the path of a new file with -o\n'],
      [
        'missing/dir/x.csv',
        'Error: Cannot write missing/dir/x.csv: the folder missing/dir does not exist; create it first, or choose another path with -o\n',
      ],
      [
        'audit.json/x.csv',
        'Error: Cannot write audit.json/x.csv: audit.json is a file, not a folder; choose another path with -o\n',
      ],
    ]
    for (const [path, line] of cases) {
      const r = await p.run(['ledger', 'export', '-f', 'csv', '-o', path])
      expect([r.code, r.stderr, r.stdout], path).toEqual([1, line, ''])
    }
    expect(readFileSync(join(p.dir, 'audit.json'), 'utf8')).toBe('kept\n')
    expect(readdirSync(join(p.dir, 'reports'))).toEqual([])
    expect(existsSync(join(p.dir, 'missing'))).toBe(false)
  })

  it('leaves no partial file when the export fails after the file was made', async () => {
    const p = await project()
    writeFileSync(join(p.dataDir, 'ledger.db'), 'not a database')
    const r = await p.run(['ledger', 'export', '-f', 'json', '-o', 'out.json'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: Cannot open the ledger/)
    expect(existsSync(join(p.dir, 'out.json'))).toBe(false)
    expect(readdirSync(p.dir).filter((name) => name.includes('out.json'))).toEqual([])
  })

  it('an export killed midway leaves nothing under the name, and the next try writes it whole', async () => {
    const p = await project()
    const ledger = openLedger({ file: join(p.dataDir, 'ledger.db') })
    const rows = 60_000
    for (let at = 0; at < rows; at += 5000) {
      await Promise.all(
        Array.from({ length: 5000 }, (_, i) =>
          ledger.append({
            requestId: `seed-${at + i}`,
            channel: 'gate',
            method: 'GET',
            path: `/seed/${at + i}/${'x'.repeat(40)}`,
            service: 'seed',
            decision: 'allowed',
          }),
        ),
      )
    }
    await ledger.close()
    const child = spawn(process.execPath, [BIN, 'ledger', 'export', '-f', 'json', '-o', 'audit.json'], {
      cwd: p.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: p.dir, AEGIS_MASTER_KEY: p.key },
      stdio: 'ignore',
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    // Killed as soon as the export is being written.
    let seen = false
    for (let i = 0; i < 3000 && !seen && child.exitCode === null; i++) {
      seen = readdirSync(p.dir).some((name) => name.includes('audit.json'))
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 2))
    }
    child.kill('SIGKILL')
    await exited
    expect(seen, 'the export was being written when killed').toBe(true)
    expect(existsSync(join(p.dir, 'audit.json'))).toBe(false)

    const again = await p.run(['ledger', 'export', '-f', 'json', '-o', 'audit.json'])
    expect([again.code, again.stderr]).toEqual([0, `Exported ${rows} entries to audit.json\n`])
    expect(JSON.parse(readFileSync(join(p.dir, 'audit.json'), 'utf8'))).toHaveLength(rows)
  }, 60_000)

  it('a finished export leaves only the file it was asked for', async () => {
    const p = await project()
    const r = await p.run(['ledger', 'export', '-f', 'csv', '-o', 'audit.csv'])
    expect(r.code, r.stderr).toBe(0)
    expect(readdirSync(p.dir).filter((name) => name.includes('audit'))).toEqual(['audit.csv'])
  })
})

describe('aegis init --config', () => {
  it('refuses a missing folder, a file in the way and an existing config, each with the way out', async () => {
    const dir = tempDir()
    dirs.push(dir)
    writeFileSync(join(dir, 'notes.txt'), 'x\n')
    const missing = await runCli(['init', '--config', 'conf/aegis.yaml'], { cwd: dir })
    expect([missing.code, missing.stderr]).toEqual([
      1,
      `Error: Cannot write ${join(dir, 'conf/aegis.yaml')}: the folder ${join(dir, 'conf')} does not exist; create it first, or choose another path with --config\n`,
    ])
    const inTheWay = await runCli(['init', '--config', 'notes.txt/aegis.yaml'], { cwd: dir })
    expect([inTheWay.code, inTheWay.stderr]).toEqual([
      1,
      `Error: Cannot write ${join(dir, 'notes.txt/aegis.yaml')}: ${join(dir, 'notes.txt')} is a file, not a folder; choose another path with --config\n`,
    ])
    expect((await runCli(['init'], { cwd: dir })).code).toBe(0)
    const again = await runCli(['init'], { cwd: dir })
    expect([again.code, again.stderr]).toEqual([
      1,
      `Error: Config file already exists: ${join(dir, 'aegis.config.yaml')} (Aegis never overwrites it: aegis init --if-missing keeps a workspace as it is; or choose another path with --config, or remove it to start over)\n`,
    ])
    expect(readdirSync(dir).sort()).toEqual(['.aegis', 'aegis.config.yaml', 'notes.txt'])
  })
})
