import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, type RunOptions, removeDir, runCli as run, tempDir } from './helpers/run-cli.js'
import { flipped, keyedWorkspace, relabelled, setIdOf, shareData, snapshot, split } from './helpers/shamir.js'

/**
 * `vault split / unseal / seal` end to end through the built CLI. One workspace split 5-of-3, and a
 * second workspace whose shares play the foreign split.
 */
let dir: string
let otherDir: string
let masterKey: string
let shares: string[]
let foreign: string[]
const unsealedKey = () => join(dir, '.aegis', 'unsealed.key')

/** Every output of every command below but the one-time print of a split: checked by the leak test. */
const outputs: string[] = []
async function runCli(args: readonly string[], opts: RunOptions): Promise<CliResult> {
  const r = await run(args, opts)
  if (!(args[0] === 'vault' && args[1] === 'split' && r.code === 0)) outputs.push(r.stdout, r.stderr)
  return r
}

beforeAll(async () => {
  dir = tempDir()
  otherDir = tempDir()
  masterKey = await keyedWorkspace(dir)
  await keyedWorkspace(otherDir)
  shares = await split(dir, 5, 3)
  foreign = await split(otherDir, 5, 3)
}, 60_000)
afterAll(() => {
  removeDir(dir)
  removeDir(otherDir)
})

const list = () => runCli(['vault', 'list', '--json'], { cwd: dir })

describe('vault split', () => {
  it('removed the master key from the config (keeping the rest) and sealed the vault', async () => {
    const config = readFileSync(join(dir, 'aegis.config.yaml'), 'utf8')
    expect(config).not.toContain(masterKey)
    expect(config).toContain('# master_key: removed by aegis vault split')
    expect(config).toContain('name: default              # (AEGIS_VAULT)')
    expect(shares).toHaveLength(5)
    expect(new Set(shares.map(setIdOf)).size).toBe(1)
    const r = await list()
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /^Error: Vault is sealed: unseal it with 3 of its 5 key shares \(aegis vault unseal/,
    )
  })

  it.each([
    ['agent list', ['agent', 'list']],
    ['vault create', ['vault', 'create', '--name', 'other']],
    [
      'vault add',
      ['vault', 'add', '--name', 'x', '--service', 'x', '--secret', '-', '--domains', 'a.example'],
    ],
    [
      'vault split (needs the key to split it again)',
      ['vault', 'split', '--shares', '3', '--threshold', '2'],
    ],
    ['mcp serve', ['mcp', 'serve']],
  ])('%s: Vault is sealed, exit 1, nothing changed', async (_label, args) => {
    const before = snapshot(dir)
    const r = await runCli(args, { cwd: dir, input: 'some-secret-value-1234\n' })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: Vault is sealed/)
    expect(snapshot(dir)).toEqual(before)
  })

  it('doctor reports the split key and the sealed state (a warning, not a failure)', async () => {
    const r = await runCli(['doctor', '--json'], { cwd: dir })
    const checks = JSON.parse(r.stdout).checks as { name: string; status: string; message: string }[]
    expect(checks.find((c) => c.name === 'master key')).toEqual({
      name: 'master key',
      status: 'warn',
      message: 'split into shares, 3 of 5 unseal it; the vault is sealed (aegis vault unseal)',
    })
    expect(r.stdout).not.toContain('AEGIS_MASTER_KEY is not set')
  })

  it('AEGIS_MASTER_KEY bypasses the seal', async () => {
    const r = await runCli(['vault', 'list', '--json'], { cwd: dir, env: { AEGIS_MASTER_KEY: masterKey } })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).map((c: { name: string }) => c.name)).toEqual(['slack-bot'])
  })

  it.each([
    [
      ['--shares', '1', '--threshold', '1'],
      /^Error: --shares must be a whole number from 2 to 255 \(got 1\)$/,
    ],
    [
      ['--shares', '256', '--threshold', '2'],
      /^Error: --shares must be a whole number from 2 to 255 \(got 256\)$/,
    ],
    [
      ['--shares', '5', '--threshold', '1'],
      /^Error: --threshold must be a whole number from 2 to the number of shares, 5 \(got 1\)$/,
    ],
    [
      ['--shares', '3', '--threshold', '4'],
      /^Error: --threshold must be a whole number from 2 to the number of shares, 3 \(got 4\)$/,
    ],
  ])('refuses %j with a one-line error naming the flag, changing nothing', async (args, message) => {
    const before = snapshot(dir)
    const r = await runCli(['vault', 'split', ...args], { cwd: dir, env: { AEGIS_MASTER_KEY: masterKey } })
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(message)
    expect(snapshot(dir)).toEqual(before)
  })
})

describe('vault unseal refuses bad shares, each with its own message, changing nothing', () => {
  const share = (i: number) => () => shares[i] as string
  const [s1, s2, s3] = [share(0), share(1), share(2)]
  const rows: [string, () => string[], RegExp][] = [
    [
      'fewer than the threshold',
      () => [s1(), s2()],
      /^Error: 2 shares given, 3 needed: split [0-9a-f]{16} has a threshold of 3 of 5$/,
    ],
    ['a duplicated share', () => [s1(), s2(), s1()], /^Error: Shares 1 and 3 are the same share/],
    [
      'shares of two different splits',
      () => [s1(), foreign[1] as string, s3()],
      /^Error: Shares 1 and 2 come from two different splits/,
    ],
    [
      'a share with one character flipped',
      () => [s1(), s2(), flipped(s3())],
      /^Error: Share 3 fails its checksum/,
    ],
    ['a malformed share', () => [s1(), 'not-a-share', s3()], /^Error: Share 2 is not an Aegis key share/],
    [
      'a share truncated in copying',
      () => [s1(), s2().slice(0, 50), s3()],
      /^Error: Share 2 is not an Aegis key share/,
    ],
    [
      'shares of another vault (foreign split)',
      () => foreign.slice(0, 3),
      /^Error: Share 1 is from split [0-9a-f]{16}, not from this vault's current split/,
    ],
    [
      'shares that rebuild a key failing the key check',
      () => foreign.slice(0, 3).map((s) => relabelled(s, setIdOf(s1()))),
      /^Error: Invalid master key: the 3 shares rebuilt a key that fails the key check/,
    ],
  ]
  it.each(rows)('%s', async (_why, input, message) => {
    const before = snapshot(dir)
    const given = input()
    const r = await runCli(['vault', 'unseal', '--key-share', '-', '--json'], {
      cwd: dir,
      input: `${given.join('\n')}\n`,
    })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr.trim()).toMatch(message)
    for (const share of [...shares, ...foreign, ...given]) {
      const data = share.split('.')[3]
      if (data && data.length > 8) expect(r.stderr).not.toContain(data)
    }
    expect(snapshot(dir)).toEqual(before)
    expect(existsSync(unsealedKey())).toBe(false)
  })
})

describe('unseal → commands work → seal', () => {
  it('unseals from --key-share flags into unsealed.key (0600), commands then need no key', async () => {
    const r = await runCli(
      [
        'vault',
        'unseal',
        '--key-share',
        shares[4] as string,
        '--key-share',
        shares[0] as string,
        '--key-share',
        shares[2] as string,
        '--json',
      ],
      { cwd: dir },
    )
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      sealed: false,
      threshold: 3,
      progress: 0,
      target: 'file',
      gates: 0,
      unsealedKey: unsealedKey(),
    })
    expect(statSync(unsealedKey()).mode & 0o777).toBe(0o600)
    // Shares in argv work (the brief shows them so) but are secret material: said once, after success.
    expect(r.stderr.trim()).toBe(
      'Warning: --key-share <share> put key shares in argv, visible to other processes (ps, /proc) and kept in shell history; next time pipe them in, one per line: --key-share - < shares.txt',
    )
    const listed = await list()
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout)).toHaveLength(1)
  })

  it('seal overwrites and removes unsealed.key; commands are sealed again', async () => {
    const r = await runCli(['vault', 'seal', '--json'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      sealed: true,
      unsealedKeyRemoved: true,
      gatesSealed: 0,
      sharedSealed: false,
    })
    expect(existsSync(unsealedKey())).toBe(false)
    expect((await list()).stderr).toMatch(/^Error: Vault is sealed/)
    const again = await runCli(['vault', 'seal'], { cwd: dir })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('No unsealed.key to remove.')
  })

  it('reads shares from stdin, one per line, with blank lines and comments around them', async () => {
    const input = `# holder 1\n${shares[1]}\n\n${shares[3]}\r\n${shares[4]}\n`
    const r = await runCli(['vault', 'unseal', '--key-share', '-'], { cwd: dir, input })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Unsealed: the key is in ${unsealedKey()}`)
    expect(r.stderr).not.toContain('Warning')
    expect((await list()).code).toBe(0)
  })

  it('a key that is not split has nothing to unseal or seal', async () => {
    const fresh = tempDir()
    try {
      await keyedWorkspace(fresh)
      for (const args of [
        ['vault', 'seal'],
        ['vault', 'unseal', '--key-share', shares[0] as string],
      ]) {
        const r = await runCli(args, { cwd: fresh })
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(/^Error: The master key is not split into shares/)
      }
    } finally {
      removeDir(fresh)
    }
  })
})

describe('splitting again', () => {
  it('makes a new set id, seals, and the old shares stop working; AEGIS_MASTER_KEY gets a warning', async () => {
    const r = await runCli(['vault', 'split', '--shares', '3', '--threshold', '2'], {
      cwd: dir,
      env: { AEGIS_MASTER_KEY: masterKey },
    })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^Warning: AEGIS_MASTER_KEY is set in this environment/)
    expect(r.stderr).not.toContain(masterKey)
    const printed = r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('aegis-share-v1.'))
    expect(printed).toHaveLength(3)
    expect(setIdOf(printed[0] as string)).not.toBe(setIdOf(shares[0] as string))
    expect(r.stdout).toContain('the shares of the previous split no longer work')
    // The split removed the unsealed.key of the old split: sealed.
    expect(existsSync(unsealedKey())).toBe(false)
    const old = await runCli(['vault', 'unseal', '--key-share', '-'], {
      cwd: dir,
      input: shares.slice(0, 3).join('\n'),
    })
    expect(old.stderr).toMatch(
      /^Error: Share 1 is from split [0-9a-f]{16}, not from this vault's current split/,
    )
    const fresh = await runCli(['vault', 'unseal', '--key-share', '-'], {
      cwd: dir,
      input: printed.slice(1).join('\n'),
    })
    expect(fresh.code, fresh.stderr).toBe(0)
    shares = printed
  })

  it('leaves no share, master key or unsealed key in any file under the workspace but unsealed.key, nor in any output', async () => {
    const key = readFileSync(unsealedKey(), 'utf8').trim().split('.')[2] as string
    const needles = [masterKey, key, ...shares.map(shareData), ...foreign.map(shareData)]
    expect(outputs.length).toBeGreaterThan(40)
    for (const out of outputs) for (const needle of needles) expect(out).not.toContain(needle)
    const { listFiles } = await import('./helpers/run-cli.js')
    for (const file of listFiles(dir)) {
      if (file === join('.aegis', 'unsealed.key')) continue
      const bytes = readFileSync(join(dir, file))
      for (const needle of needles) {
        expect(bytes.includes(Buffer.from(needle)), `${file} holds a secret`).toBe(false)
      }
    }
    await runCli(['vault', 'seal'], { cwd: dir })
  })
})

describe('several vaults in one data dir (one master key)', () => {
  it('the split covers every vault: AEGIS_VAULT selects which one a command uses once unsealed', async () => {
    const multi = tempDir()
    try {
      const key = await keyedWorkspace(multi)
      expect((await run(['vault', 'create', '--name', 'staging'], { cwd: multi })).code).toBe(0)
      const [a, b] = await split(multi, 2, 2)
      const sealed = await run(['vault', 'list'], { cwd: multi, env: { AEGIS_VAULT: 'staging' } })
      expect(sealed.stderr).toMatch(/^Error: Vault is sealed/)
      expect(
        (await run(['vault', 'unseal', '--key-share', '-'], { cwd: multi, input: `${a}\n${b}\n` })).code,
      ).toBe(0)
      const listed = await run(['vault', 'list', '--json'], { cwd: multi, env: { AEGIS_VAULT: 'staging' } })
      expect(listed.code, listed.stderr).toBe(0)
      expect(JSON.parse(listed.stdout)).toEqual([])
      expect(key).not.toBe('')
    } finally {
      removeDir(multi)
    }
  })

  it('refuses to split when a vault of the data dir does not open with the key, changing nothing', async () => {
    const mixed = tempDir()
    try {
      const key = await keyedWorkspace(mixed)
      const created = await run(['vault', 'create', '--name', 'odd'], {
        cwd: mixed,
        env: { AEGIS_MASTER_KEY: 'another-master-key-for-one-vault-0123456789' },
      })
      expect(created.code, created.stderr).toBe(0)
      const before = snapshot(mixed)
      const r = await run(['vault', 'split', '--shares', '2', '--threshold', '2'], { cwd: mixed })
      expect(r.code).toBe(1)
      expect(r.stderr.trim()).toBe(
        'Error: Invalid master key: the key does not open vault "odd" (every vault of a data dir must share one master key)',
      )
      expect(r.stdout).toBe('')
      expect(snapshot(mixed)).toEqual(before)
      expect(readFileSync(join(mixed, 'aegis.config.yaml'), 'utf8')).toContain(key)
    } finally {
      removeDir(mixed)
    }
  })
})
