import { openVault } from '@aegis/vault'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initProject, type Project, removeDir } from './helpers/run-cli.js'

/**
 * Secrets the gate could not recognise in traffic are refused by `vault add` and `vault rotate`
 * with a message naming the problem (never the secret), exit status 1, and nothing stored. Stdin
 * loses exactly one trailing line ending (what `echo x |` and `read` produce); nothing else.
 */
const BODY = 'sk-live-4242-abcd'
const ROTATED_FROM = 'original-secret-value-0000'

interface Case {
  what: string
  /** `-` reads `input` from stdin; anything else is passed as `--secret <value>`. */
  secret: string
  input?: string
  error: RegExp
}

const refused: Case[] = [
  {
    what: 'echo of a value that already ends in a newline',
    secret: '-',
    input: `${BODY}\n\n`,
    error:
      /^Error: --secret has a trailing newline \(LF\): remove surrounding whitespace \(pipe it with printf %s or echo -n/,
  },
  {
    what: 'an explicit trailing space on the command line',
    secret: `${BODY} `,
    error: /^Error: --secret has a trailing space: remove surrounding whitespace/,
  },
  {
    what: 'a leading space on stdin',
    secret: '-',
    input: ` ${BODY}\n`,
    error: /^Error: --secret has a leading space: remove surrounding whitespace/,
  },
  {
    what: 'a trailing tab on stdin',
    secret: '-',
    input: `${BODY}\t\n`,
    error: /^Error: --secret has a trailing tab/,
  },
  {
    what: 'a control character (ESC) inside',
    secret: '-',
    input: `sk-live\u001b[0m-4242-abcd\n`,
    error:
      /^Error: --secret contains a control character \(escape character \(ESC\)\): a secret is printable text/,
  },
  {
    what: 'a DEL inside',
    secret: '-',
    input: 'sk-live\u007f4242-abcd\n',
    error: /^Error: --secret contains a control character \(delete character \(DEL\)\)/,
  },
  {
    what: 'a 7-byte secret',
    secret: '-',
    input: 'abcdefg\n',
    error: /^Error: --secret is shorter than 8 bytes \(UTF-8\): the gate cannot recognise a shorter secret/,
  },
  {
    what: 'a 7-byte secret padded to look longer',
    secret: '   abcdefg',
    error: /^Error: --secret has a leading space/,
  },
]

let p: Project
beforeAll(async () => {
  p = await initProject()
  const add = await p.run(
    [
      'vault',
      'add',
      '--name',
      'existing',
      '--service',
      'existing',
      '--domains',
      'api.x.example',
      '--secret',
      '-',
    ],
    { input: `${ROTATED_FROM}\n` },
  )
  expect(add.code, add.stderr).toBe(0)
})
afterAll(() => {
  if (p) removeDir(p.dir)
})

function stored(): Map<string, string> {
  const vault = openVault({ dataDir: p.dataDir, name: 'default', masterKey: p.key })
  try {
    return new Map(vault.loadAll().map((c) => [c.name, c.secret.reveal()]))
  } finally {
    vault.close()
  }
}

function expectNoEcho(output: string): void {
  expect(output).not.toContain('4242')
  expect(output).not.toContain('abcdefg')
}

describe('vault add refuses a secret the gate could not protect', () => {
  it.each(refused)('$what', async ({ secret, input, error }) => {
    const r = await p.run(
      ['vault', 'add', '--name', 'new', '--service', 'new', '--domains', 'api.x.example', '--secret', secret],
      { input },
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(error)
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(r.stdout).toBe('')
    expectNoEcho(r.stderr)
    expect([...stored().keys()]).toEqual(['existing'])
  })
})

describe('vault rotate refuses it too, and keeps the old secret', () => {
  it.each(refused)('$what', async ({ secret, input, error }) => {
    const r = await p.run(['vault', 'rotate', '--name', 'existing', '--secret', secret], { input })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(error)
    expect(r.stdout).toBe('')
    expectNoEcho(r.stderr)
    expect(stored().get('existing')).toBe(ROTATED_FROM)
  })
})

describe('what stdin may end with', () => {
  it.each([
    ['echo (LF)', 'demo-secret\n'],
    ['a Windows pipe (CRLF)', 'demo-secret\r\n'],
    ['printf %s (nothing)', 'demo-secret'],
  ])('%s: one line ending is removed and the rest is stored as it is', async (_what, input) => {
    const r = await p.run(['vault', 'rotate', '--name', 'existing', '--secret', '-'], { input })
    expect(r.code, r.stderr).toBe(0)
    expect(stored().get('existing')).toBe('demo-secret')
  })

  it('the README quick start (echo demo-secret | aegis vault add … --secret -) works', async () => {
    const r = await p.run(
      [
        'vault',
        'add',
        '--name',
        'demo',
        '--service',
        'demo',
        '--secret',
        '-',
        '--domains',
        'api.example.com',
      ],
      { input: 'demo-secret\n' },
    )
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('inspection: block')
    expect(stored().get('demo')).toBe('demo-secret')
  })
})
