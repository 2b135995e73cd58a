import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { listFiles, parseJson, removeDir, runCli, snapshot, tempDir } from './helpers/run-cli.js'

const KEY = 'test-master-key-0123456789abcdef0123456789'
const dirs: string[] = []
function fresh(): string {
  const dir = tempDir()
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir)
})

describe('aegis init', () => {
  it('generates a key, prints it once with the export hint, and keeps it out of the files', async () => {
    const dir = fresh()
    const result = await runCli(['init'], { cwd: dir })
    expect(result.code).toBe(0)
    const match = /export AEGIS_MASTER_KEY=(\S+)/.exec(result.stdout)
    expect(match).not.toBeNull()
    const key = match?.[1] ?? ''
    expect(key.length).toBeGreaterThanOrEqual(40)
    const config = readFileSync(join(dir, 'aegis.config.yaml'), 'utf8')
    expect(config).not.toContain(key)
    expect(parse(config).vault.master_key).toBeUndefined()
    expect(statSync(join(dir, '.aegis')).mode & 0o777).toBe(0o700)
    expect(listFiles(join(dir, '.aegis'))).toEqual(['vaults.json', 'vaults/default.db'])
    for (const file of listFiles(dir)) expect(readFileSync(join(dir, file)).includes(key)).toBe(false)

    // The printed key opens the new vault.
    const list = await runCli(['vault', 'list', '--json'], { cwd: dir, env: { AEGIS_MASTER_KEY: key } })
    expect(list.code).toBe(0)
    expect(parseJson(list)).toEqual([])
  })

  it('--json gives {configPath, dataDir, masterKey} and nothing else on stdout', async () => {
    const dir = fresh()
    const result = await runCli(['init', '--json'], { cwd: dir })
    expect(result.code).toBe(0)
    const out = parseJson<Record<string, unknown>>(result)
    expect(out.configPath).toBe(join(dir, 'aegis.config.yaml'))
    expect(out.dataDir).toBe(join(dir, '.aegis'))
    expect(typeof out.masterKey).toBe('string')
    const two = await runCli(['init', '--json'], { cwd: fresh() })
    expect(parseJson<{ masterKey: string }>(two).masterKey).not.toBe(out.masterKey)
  })

  it('--write-secrets stores the key in a 0600 config file and does not print it', async () => {
    const dir = fresh()
    const result = await runCli(['init', '--write-secrets', '--json'], { cwd: dir })
    expect(result.code).toBe(0)
    const out = parseJson<Record<string, unknown>>(result)
    expect(out).not.toHaveProperty('masterKey')
    const file = join(dir, 'aegis.config.yaml')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const key = parse(readFileSync(file, 'utf8')).vault.master_key as string
    expect(key.length).toBeGreaterThanOrEqual(40)
    expect(result.stdout).not.toContain(key)
    // Later commands find the key in the file.
    const list = await runCli(['vault', 'list'], { cwd: dir })
    expect(list.code).toBe(0)
  })

  it('uses AEGIS_MASTER_KEY when set and never prints it', async () => {
    const dir = fresh()
    const result = await runCli(['init'], { cwd: dir, env: { AEGIS_MASTER_KEY: KEY } })
    expect(result.code).toBe(0)
    expect(result.stdout + result.stderr).not.toContain(KEY)
    const json = await runCli(['init', '--json', '--config', 'other.yaml'], {
      cwd: fresh(),
      env: { AEGIS_MASTER_KEY: KEY },
    })
    expect(parseJson(json)).not.toHaveProperty('masterKey')
    const list = await runCli(['vault', 'list'], { cwd: dir, env: { AEGIS_MASTER_KEY: KEY } })
    expect(list.code).toBe(0)
    const wrong = await runCli(['vault', 'list'], { cwd: dir, env: { AEGIS_MASTER_KEY: `${KEY}x` } })
    expect(wrong.code).toBe(1)
  })

  it('uses an AEGIS_MASTER_KEY short enough to guess or pasted with whitespace or quotes as given, with a warning that never echoes it', async () => {
    const cases: Array<[string, RegExp]> = [
      ['short', /^Warning: AEGIS_MASTER_KEY has 5 characters: a key under 32 can be guessed/],
      ['k'.repeat(31), /^Warning: AEGIS_MASTER_KEY has 31 characters/],
      [`${KEY}\n`, /^Warning: AEGIS_MASTER_KEY has leading or trailing whitespace/],
      [` ${KEY}`, /^Warning: AEGIS_MASTER_KEY has leading or trailing whitespace/],
      [`"${KEY}"`, /^Warning: AEGIS_MASTER_KEY starts or ends with a quote/],
    ]
    for (const [key, message] of cases) {
      const dir = fresh()
      const result = await runCli(['init', '--json'], { cwd: dir, env: { AEGIS_MASTER_KEY: key } })
      expect(result.code, JSON.stringify(key)).toBe(0)
      expect(result.stderr).toMatch(message)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr + result.stdout).not.toContain(key.trim())
      // The key is the vault's key exactly as it was given.
      const list = await runCli(['vault', 'list'], { cwd: dir, env: { AEGIS_MASTER_KEY: key } })
      expect(list.code, list.stderr).toBe(0)
    }
    // 32 characters and no stray characters: no warning.
    const fine = await runCli(['init'], { cwd: fresh(), env: { AEGIS_MASTER_KEY: 'k'.repeat(32) } })
    expect(fine.code).toBe(0)
    expect(fine.stderr).toBe('')
  })

  it('after the data directory was moved aside (troubleshooting: back up .aegis/, re-run init), makes it again for the kept config', async () => {
    const dir = fresh()
    expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
    const file = join(dir, 'aegis.config.yaml')
    const config = readFileSync(file, 'utf8')
    renameSync(join(dir, '.aegis'), join(dir, 'aegis-backup'))
    const again = await runCli(['init', '--json'], { cwd: dir })
    expect(again.code, again.stderr).toBe(0)
    expect(parseJson(again)).toMatchObject({ rebuilt: true, vault: 'default', dataDir: join(dir, '.aegis') })
    // The key in the config opens the new vault; the config is byte for byte the same.
    expect(parseJson(again)).not.toHaveProperty('masterKey')
    expect(readFileSync(file, 'utf8')).toBe(config)
    expect((await runCli(['vault', 'list'], { cwd: dir })).code).toBe(0)
    // Once it is there, init refuses again.
    const third = await runCli(['init'], { cwd: dir })
    expect(third.code).toBe(1)
    expect(third.stderr).toMatch(/^Error: Config file already exists/)

    // A config without the key: a new one is made and printed once (the config is not rewritten).
    const keyless = fresh()
    expect((await runCli(['init'], { cwd: keyless })).code).toBe(0)
    rmSync(join(keyless, '.aegis'), { recursive: true })
    const refused = await runCli(['init', '--write-secrets'], { cwd: keyless })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/holds no master key, and aegis init never rewrites it/)
    expect(existsSync(join(keyless, '.aegis'))).toBe(false)
    const made = await runCli(['init', '--json'], { cwd: keyless })
    expect(made.code, made.stderr).toBe(0)
    const key = parseJson<{ masterKey: string }>(made).masterKey
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await runCli(['vault', 'list'], { cwd: keyless, env: { AEGIS_MASTER_KEY: key } })).code).toBe(0)
  })

  it('refuses a second init and changes nothing', async () => {
    const dir = fresh()
    expect((await runCli(['init'], { cwd: dir })).code).toBe(0)
    const before = snapshot(dir)
    for (const args of [['init'], ['init', '--write-secrets'], ['init', '--json']]) {
      const again = await runCli(args, { cwd: dir })
      expect(again.code).toBe(1)
      expect(again.stderr.trim()).toMatch(/^Error: Config file already exists: .*aegis\.config\.yaml/)
      expect(again.stderr.trim().split('\n')).toHaveLength(1)
      expect(again.stdout).toBe('')
    }
    expect(snapshot(dir)).toEqual(before)
  })

  it('refuses when the vault exists even though the config file does not, leaving no config behind', async () => {
    const dir = fresh()
    expect((await runCli(['init'], { cwd: dir })).code).toBe(0)
    const config = readFileSync(join(dir, 'aegis.config.yaml'))
    removeDir(join(dir, 'aegis.config.yaml'))
    const before = snapshot(dir)
    const again = await runCli(['init', '--write-secrets'], { cwd: dir })
    expect(again.code).toBe(1)
    expect(again.stderr).toBe(
      `Error: Vault "default" already exists in ${join(dir, '.aegis')}, but no config names it here: set AEGIS_MASTER_KEY to its key and run aegis init again (it writes a config for it), or move ${join(dir, '.aegis')} aside to start over\n`,
    )
    expect(existsSync(join(dir, 'aegis.config.yaml'))).toBe(false)
    expect(snapshot(dir)).toEqual(before)
    writeFileSync(join(dir, 'aegis.config.yaml'), config)
  })

  it("a lost config: init with the vault's key writes a config for it (a wrong key changes nothing)", async () => {
    const dir = fresh()
    expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
    const key = String(parse(readFileSync(join(dir, 'aegis.config.yaml'), 'utf8')).vault.master_key)
    const add = await runCli(
      ['vault', 'add', '--name', 'kept', '--service', 'kept', '--secret', '-', '--domains', 'kept.test'],
      { cwd: dir, input: 'kept-secret-0123456789' },
    )
    expect(add.code, add.stderr).toBe(0)
    removeDir(join(dir, 'aegis.config.yaml'))
    const before = snapshot(dir)
    const wrong = await runCli(['init', '--write-secrets'], {
      cwd: dir,
      env: { AEGIS_MASTER_KEY: 'not-this-vaults-key-0123456789abcdef' },
    })
    expect([wrong.code, wrong.stderr]).toEqual([1, 'Error: Invalid master key\n'])
    expect(snapshot(dir)).toEqual(before)
    const joined = await runCli(['init', '--write-secrets'], { cwd: dir, env: { AEGIS_MASTER_KEY: key } })
    expect(joined.code, joined.stderr).toBe(0)
    expect(joined.stdout).toContain(
      'storage:  SQLite (vault "default" was already there and the key opens it)',
    )
    const list = await runCli(['vault', 'list', '--json'], { cwd: dir, env: { AEGIS_MASTER_KEY: '' } })
    expect(list.code, list.stderr).toBe(0)
    expect(parseJson<Array<{ name: string }>>(list).map((c) => c.name)).toEqual(['kept'])
  })

  it('honours --config and AEGIS_DATA_DIR', async () => {
    const dir = fresh()
    const result = await runCli(['init', '--config', 'conf/aegis.yaml', '--json'], {
      cwd: dir,
      env: { AEGIS_DATA_DIR: 'state' },
    })
    // The folder of --config must exist; init does not create it.
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^Error: Cannot write .*conf\/aegis\.yaml: the folder .*conf does not exist; create it first, or choose another path with --config\n$/,
    )
    expect(existsSync(join(dir, 'conf'))).toBe(false)

    const ok = await runCli(['init', '--config', 'custom.yaml', '--json'], {
      cwd: dir,
      env: { AEGIS_DATA_DIR: 'state' },
    })
    expect(ok.code).toBe(0)
    expect(parseJson(ok)).toMatchObject({ configPath: join(dir, 'custom.yaml'), dataDir: join(dir, 'state') })
    expect(existsSync(join(dir, 'state', 'vaults.json'))).toBe(true)
  })
})
