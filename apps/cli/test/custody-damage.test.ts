import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir, runCli, tempDir } from './helpers/run-cli.js'
import { keyedWorkspace, snapshot, split } from './helpers/shamir.js'

/**
 * A damaged custody.json (the key check shares are proven against): every command says how to get
 * out, and the holder of the whole key (AEGIS_MASTER_KEY, which bypasses the seal) is not locked
 * out by it — they can work, and split again to write a new one.
 */
let dir: string
let masterKey: string
const custodyFile = () => join(dir, '.aegis', 'custody.json')

beforeAll(async () => {
  dir = tempDir()
  masterKey = await keyedWorkspace(dir)
  await split(dir, 3, 2)
}, 60_000)
afterAll(() => removeDir(dir))

const WAY_OUT =
  ': restore it from a backup of the data directory, or set AEGIS_MASTER_KEY to the master key and split it again (aegis vault split), which makes new shares'

describe('a damaged custody.json', () => {
  it.each([
    ['not JSON', '{"version": 1, "setId"', 'is not valid JSON'],
    ['not a custody record', '{"version": 1}\n', 'is not a valid custody record'],
  ])('%s: each command names the file and the way out, changing nothing', async (_l, text, what) => {
    writeFileSync(custodyFile(), text)
    const before = snapshot(dir)
    for (const args of [
      ['vault', 'list'],
      ['vault', 'seal'],
      ['vault', 'unseal', '--key-share', '-'],
    ]) {
      const r = await runCli(args, { cwd: dir })
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr).toBe(`Error: ${custodyFile()} ${what}${WAY_OUT}\n`)
    }
    expect(snapshot(dir)).toEqual(before)
  })

  it('AEGIS_MASTER_KEY still opens the vault, and a new split writes a new custody.json whose shares unseal', async () => {
    writeFileSync(custodyFile(), '{"version": 1, "setId"')
    const env = { AEGIS_MASTER_KEY: masterKey }
    const list = await runCli(['vault', 'list', '--json'], { cwd: dir, env })
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'slack-bot' }])

    const again = await runCli(['vault', 'split', '--shares', '3', '--threshold', '2', '--json'], {
      cwd: dir,
      env,
    })
    expect(again.code, again.stderr).toBe(0)
    const { shares } = JSON.parse(again.stdout) as { shares: string[] }
    expect(JSON.parse(readFileSync(custodyFile(), 'utf8'))).toMatchObject({ version: 1, threshold: 2 })
    const unseal = await runCli(['vault', 'unseal', '--key-share', '-'], {
      cwd: dir,
      input: `${shares[0]}\n${shares[2]}\n`,
    })
    expect(unseal.code, unseal.stderr).toBe(0)
    expect((await runCli(['vault', 'list'], { cwd: dir })).code).toBe(0)
  })
})
