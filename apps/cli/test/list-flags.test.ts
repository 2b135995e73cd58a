/**
 * Every comma-separated flag (`--domains`, `--scopes`, `--events`) is read by one parser: an empty
 * entry is refused naming the flag and its position, and nothing is stored, instead of the entry
 * being dropped without a word.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addCredential, initProject, type Project, parseJson, removeDir } from './helpers/run-cli.js'

const SECRET = 'xoxb-list-flags-secret-7781'
let p: Project
beforeAll(async () => {
  p = await initProject()
  await addCredential(p, ['--name', 'kept', '--service', 'kept', '--domains', 'api.kept.com'], SECRET)
})
afterAll(() => {
  if (p) removeDir(p.dir)
})

const emptyEntry = (flag: string, at: number, of: number) =>
  `Error: Invalid ${flag}: entry ${at} of ${of} is empty (a doubled, leading or trailing comma); separate the values with single commas\n`

describe('comma-separated flags', () => {
  it.each([
    [
      ['vault', 'add', '--name', 'x', '--service', 'x', '--domains', 'a.com,,b.com'],
      emptyEntry('--domains', 2, 3),
    ],
    [['vault', 'add', '--name', 'x', '--service', 'x', '--domains', 'a.com,'], emptyEntry('--domains', 2, 2)],
    [
      ['vault', 'add', '--name', 'x', '--service', 'x', '--domains', 'a.com', '--scopes', 'read, ,write'],
      emptyEntry('--scopes', 2, 3),
    ],
    [['vault', 'update', '--name', 'kept', '--domains', ',api.other.com'], emptyEntry('--domains', 1, 2)],
    [['vault', 'update', '--name', 'kept', '--scopes', 'read,'], emptyEntry('--scopes', 2, 2)],
    [
      [
        'webhook',
        'add',
        '--url',
        'https://hooks.example.com/aegis',
        '--events',
        'blocked_request,,credential_expiry',
      ],
      emptyEntry('--events', 2, 3),
    ],
  ])('%j is refused by position, nothing changed', async (args, line) => {
    const r = await p.run([...args, ...(args[1] === 'add' && args[0] === 'vault' ? ['--secret', '-'] : [])], {
      input: `${SECRET}\n`,
    })
    expect([r.code, r.stderr, r.stdout]).toEqual([1, line, ''])
    const list = parseJson<{ name: string; domains: string[]; scopes: string[] }[]>(
      await p.run(['vault', 'list', '--json']),
    )
    expect(list.map((c) => [c.name, c.domains])).toEqual([['kept', ['api.kept.com']]])
    expect(parseJson<unknown[]>(await p.run(['webhook', 'list', '--json']))).toEqual([])
  })

  it('spaces around entries are still fine', async () => {
    const r = await p.run(['vault', 'update', '--name', 'kept', '--domains', 'api.kept.com, api.other.com'])
    expect(r.code, r.stderr).toBe(0)
    const list = parseJson<{ domains: string[] }[]>(await p.run(['vault', 'list', '--json']))
    expect(list[0]?.domains).toEqual(['api.kept.com', 'api.other.com'])
  })
})
