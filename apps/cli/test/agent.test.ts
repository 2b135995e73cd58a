import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addCredential,
  type CliResult,
  initProject,
  listFiles,
  type Project,
  parseJson,
  removeDir,
  snapshot,
} from './helpers/run-cli.js'

const TOKEN = /aegis_[A-Za-z0-9_-]{43}/g
const TOKEN_SHAPE = /^aegis_[A-Za-z0-9_-]{43}$/

interface TokenJson {
  name: string
  token: string
  prefix: string
}
interface AgentJson {
  name: string
  prefix: string
  rateLimit: string | null
  maxInFlight: number | null
  grants: string[]
}

/** Every run of the suite, so the leak checks can look at all of stdout and stderr. */
const outputs: CliResult[] = []
/** Every token any command handed out. */
const tokens: string[] = []

function ok(r: CliResult): CliResult {
  expect(r.code, r.stderr).toBe(0)
  expect(r.stderr).toBe('')
  return r
}

describe('aegis agent', () => {
  let p: Project
  const run = async (args: string[]) => {
    const r = await p.run(args)
    outputs.push(r)
    return r
  }
  const list = async () => parseJson<AgentJson[]>(ok(await run(['agent', 'list', '--json'])))
  const addAgent = async (name: string, extra: string[] = []) => {
    const r = parseJson<TokenJson>(ok(await run(['agent', 'add', '--name', name, ...extra, '--json'])))
    tokens.push(r.token)
    return r
  }

  beforeAll(async () => {
    p = await initProject()
    await addCredential(
      p,
      ['--name', 'slack-bot', '--service', 'slack', '--domains', 'slack.com'],
      'xoxb-test-secret-1',
    )
    await addCredential(
      p,
      ['--name', 'gh', '--service', 'github', '--domains', 'api.github.com'],
      'ghp-test-secret-1',
    )
  })
  afterAll(() => {
    if (p) removeDir(p.dir)
  })

  it('agent --help lists every subcommand', async () => {
    const help = ok(await run(['agent', '--help']))
    for (const cmd of ['add', 'list', 'remove', 'regenerate', 'grant', 'revoke', 'set-rate-limit']) {
      expect(help.stdout).toContain(`agent ${cmd}`)
    }
  })

  it('add prints the token once with a "save it now" line; --json gives {name, token, prefix}', async () => {
    const human = ok(await run(['agent', 'add', '--name', 'research-bot', '--rate-limit', '50/min']))
    const found = human.stdout.match(TOKEN) ?? []
    expect(found).toHaveLength(1)
    const token = found[0] ?? ''
    tokens.push(token)
    expect(human.stdout).toMatch(/save this token now/i)
    expect(human.stdout).toContain(`token prefix ${token.slice(0, 12)}`)

    const json = await addAgent('writer', ['--max-in-flight', '3'])
    expect(json).toEqual({
      name: 'writer',
      token: expect.stringMatching(TOKEN_SHAPE),
      prefix: json.token.slice(0, 12),
      rateLimit: null,
      maxInFlight: 3,
    })
    expect(json.token).not.toBe(token)
  })

  it('list shows name, prefix, limits and grants, never a token', async () => {
    const agents = await list()
    expect(agents).toEqual([
      expect.objectContaining({ name: 'research-bot', rateLimit: '50/min', maxInFlight: null, grants: [] }),
      expect.objectContaining({ name: 'writer', rateLimit: null, maxInFlight: 3, grants: [] }),
    ])
    for (const a of agents) {
      expect(a.prefix).toMatch(/^aegis_[A-Za-z0-9_-]{6}$/)
      expect(Object.keys(a)).not.toContain('token')
    }
    const human = ok(await run(['agent', 'list']))
    expect(human.stdout).toMatch(/^NAME\s+TOKEN PREFIX\s+RATE LIMIT\s+MAX IN FLIGHT\s+GRANTS\n/)
    expect(human.stdout).toMatch(/research-bot\s+aegis_\S{6}…\s+50\/min\s+-\s+\(none\)/)
    for (const token of tokens) expect(human.stdout + JSON.stringify(agents)).not.toContain(token.slice(12))
  })

  it('grant and revoke: idempotent, JSON shapes, reflected in list', async () => {
    const g = parseJson(
      ok(await run(['agent', 'grant', '--agent', 'research-bot', '--credential', 'slack-bot', '--json'])),
    )
    expect(g).toEqual({ agent: 'research-bot', credential: 'slack-bot', granted: true, changed: true })
    const again = ok(await run(['agent', 'grant', '--agent', 'research-bot', '--credential', 'slack-bot']))
    expect(again.stdout).toBe('Agent research-bot already had access to credential slack-bot\n')
    ok(await run(['agent', 'grant', '--agent', 'research-bot', '--credential', 'gh']))
    expect((await list())[0]?.grants).toEqual(['gh', 'slack-bot'])

    const r = parseJson(
      ok(await run(['agent', 'revoke', '--agent', 'research-bot', '--credential', 'gh', '--json'])),
    )
    expect(r).toEqual({ agent: 'research-bot', credential: 'gh', granted: false, changed: true })
    const noop = ok(await run(['agent', 'revoke', '--agent', 'research-bot', '--credential', 'gh', '--json']))
    expect(parseJson(noop)).toEqual({
      agent: 'research-bot',
      credential: 'gh',
      granted: false,
      changed: false,
    })
    expect((await list())[0]?.grants).toEqual(['slack-bot'])
  })

  it('set-rate-limit sets, clears with none, and sets the in-flight cap', async () => {
    const set = parseJson<AgentJson>(
      ok(await run(['agent', 'set-rate-limit', '--agent', 'writer', '--limit', '10 / Minute', '--json'])),
    )
    expect(set).toMatchObject({ name: 'writer', rateLimit: '10/min', maxInFlight: 3 })
    const human = ok(
      await run(['agent', 'set-rate-limit', '--agent', 'writer', '--limit', 'none', '--max-in-flight', '8']),
    )
    expect(human.stdout).toBe('Agent writer: rate limit none, at most 8 in flight\n')
    ok(
      await run([
        'agent',
        'set-rate-limit',
        '--agent',
        'writer',
        '--limit',
        '2/sec',
        '--max-in-flight',
        'none',
      ]),
    )
    expect((await list())[1]).toMatchObject({ name: 'writer', rateLimit: '2/sec', maxInFlight: null })
    // --rate-limit, as agent add spells it, is the same flag here.
    ok(await run(['agent', 'set-rate-limit', '--agent', 'writer', '--rate-limit', '3/min']))
    expect((await list())[1]).toMatchObject({ name: 'writer', rateLimit: '3/min' })
  })

  it('regenerate prints a new token once and changes the prefix; grants and limits stay', async () => {
    const before = (await list())[0]
    const human = ok(await run(['agent', 'regenerate', '--name', 'research-bot']))
    const found = human.stdout.match(TOKEN) ?? []
    expect(found).toHaveLength(1)
    tokens.push(found[0] ?? '')
    expect(human.stdout).toMatch(/old token no longer works/)
    expect(human.stdout).toMatch(/save this token now/i)

    const json = parseJson<TokenJson>(
      ok(await run(['agent', 'regenerate', '--name', 'research-bot', '--json'])),
    )
    tokens.push(json.token)
    expect(json).toMatchObject({ name: 'research-bot', prefix: json.token.slice(0, 12) })
    expect(json.token).toMatch(TOKEN_SHAPE)
    expect(new Set(tokens).size).toBe(tokens.length)
    const after = (await list())[0]
    expect(after).toMatchObject({ rateLimit: before?.rateLimit, grants: before?.grants, prefix: json.prefix })
  })

  it('removing a credential removes its grants; a re-added credential has none', async () => {
    await addCredential(
      p,
      ['--name', 'tmp', '--service', 'tmp', '--domains', 'tmp.example'],
      'tmp-test-secret-1',
    )
    ok(await run(['agent', 'grant', '--agent', 'writer', '--credential', 'tmp']))
    expect((await list())[1]?.grants).toEqual(['tmp'])
    ok(await run(['vault', 'remove', '--name', 'tmp']))
    expect((await list())[1]?.grants).toEqual([])
    await addCredential(
      p,
      ['--name', 'tmp', '--service', 'tmp', '--domains', 'tmp.example'],
      'tmp-test-secret-2',
    )
    expect((await list())[1]?.grants).toEqual([])
  })

  it('remove deletes the agent; the name can be registered again, with no grants', async () => {
    await addAgent('short-lived')
    ok(await run(['agent', 'grant', '--agent', 'short-lived', '--credential', 'gh']))
    const removed = parseJson(ok(await run(['agent', 'remove', '--name', 'short-lived', '--json'])))
    expect(removed).toEqual({ name: 'short-lived', removed: true })
    expect((await list()).map((a) => a.name)).toEqual(['research-bot', 'writer'])
    await addAgent('short-lived')
    expect((await list()).find((a) => a.name === 'short-lived')?.grants).toEqual([])
    ok(await run(['agent', 'remove', '--name', 'short-lived']))
  })

  describe('refusals: one line on stderr, exit 1, nothing changed', () => {
    const cases: { what: string; args: () => string[]; error: string | RegExp }[] = [
      {
        what: 'grant to an unknown agent',
        args: () => ['agent', 'grant', '--agent', 'ghost', '--credential', 'gh'],
        error: 'Error: No agent named "ghost"',
      },
      {
        what: 'grant of an unknown credential',
        args: () => ['agent', 'grant', '--agent', 'writer', '--credential', 'nope'],
        error: 'Error: No credential named "nope"',
      },
      {
        what: 'revoke for an unknown agent',
        args: () => ['agent', 'revoke', '--agent', 'ghost', '--credential', 'gh'],
        error: 'Error: No agent named "ghost"',
      },
      {
        what: 'revoke of an unknown credential',
        args: () => ['agent', 'revoke', '--agent', 'writer', '--credential', 'nope'],
        error: 'Error: No credential named "nope"',
      },
      {
        what: 'remove an unknown agent',
        args: () => ['agent', 'remove', '--name', 'ghost'],
        error: 'Error: No agent named "ghost"',
      },
      {
        what: 'regenerate an unknown agent',
        args: () => ['agent', 'regenerate', '--name', 'ghost'],
        error: 'Error: No agent named "ghost"',
      },
      {
        what: 'set-rate-limit on an unknown agent',
        args: () => ['agent', 'set-rate-limit', '--agent', 'ghost', '--limit', '1/sec'],
        error: 'Error: No agent named "ghost"',
      },
      {
        what: 'a duplicate name',
        args: () => ['agent', 'add', '--name', 'writer'],
        error: 'Error: An agent named "writer" already exists',
      },
      {
        what: 'a bad name',
        args: () => ['agent', 'add', '--name', 'has space'],
        error: 'Error: agent name must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit',
      },
      {
        what: 'a name too long',
        args: () => ['agent', 'add', '--name', 'a'.repeat(65)],
        error: /^Error: agent name must be 1-64 characters/,
      },
      {
        what: 'a bad rate on add',
        args: () => ['agent', 'add', '--name', 'fresh', '--rate-limit', 'lots'],
        error: /^Error: --rate-limit: Invalid rate "lots"/,
      },
      {
        what: 'a bad rate on set-rate-limit',
        args: () => ['agent', 'set-rate-limit', '--agent', 'writer', '--limit', '0/min'],
        error: /^Error: --limit: Invalid rate "0\/min"/,
      },
      {
        what: 'a bad in-flight cap',
        args: () => ['agent', 'add', '--name', 'fresh', '--max-in-flight', '0'],
        error: 'Error: --max-in-flight must be a positive integer (at most 100000)',
      },
      {
        what: 'a non-numeric in-flight cap',
        args: () => [
          'agent',
          'set-rate-limit',
          '--agent',
          'writer',
          '--limit',
          '1/sec',
          '--max-in-flight',
          '2x',
        ],
        error: 'Error: --max-in-flight must be a positive integer (at most 100000)',
      },
      {
        what: 'a bad credential name',
        args: () => ['agent', 'grant', '--agent', 'writer', '--credential', 'no/such'],
        error: /^Error: --credential must be 1-128 characters/,
      },
      {
        what: 'a token pasted as the agent name',
        args: () => ['agent', 'remove', '--name', tokens[0] ?? ''],
        error: 'Error: agent name must not look like an agent token',
      },
      {
        what: 'a token pasted as the credential name',
        args: () => ['agent', 'grant', '--agent', 'writer', '--credential', tokens[0] ?? ''],
        error: /^Error: No credential named \(a value shaped like an agent token, not shown\)$/,
      },
    ]
    for (const c of cases) {
      it(c.what, async () => {
        const before = snapshot(p.dir)
        for (const json of [false, true]) {
          const r = await run(json ? [...c.args(), '--json'] : c.args())
          expect(r.code).toBe(1)
          expect(r.stdout).toBe('')
          const lines = r.stderr.trimEnd().split('\n')
          expect(lines).toHaveLength(1)
          if (typeof c.error === 'string') expect(lines[0]).toBe(c.error)
          else expect(lines[0]).toMatch(c.error)
        }
        expect(snapshot(p.dir)).toEqual(before)
      })
    }

    it('a missing required flag is a usage error (exit 2)', async () => {
      const r = await run(['agent', 'grant', '--agent', 'writer'])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/credential/)
    })
  })

  it('no token reaches stderr, a file under the project, or any output but add/regenerate stdout', () => {
    expect(tokens.length).toBeGreaterThanOrEqual(6)
    const files = listFiles(p.dir)
    expect(files).toContain(join('.aegis', 'vaults', 'default.db'))
    const needles = tokens.flatMap((t) => {
      const raw = Buffer.from(t.slice(6), 'base64url')
      return [Buffer.from(t), Buffer.from(t.slice(12)), raw, Buffer.from(raw.toString('hex'))]
    })
    let hashesFound = 0
    const current = createHash('sha256')
      .update(tokens.at(-1) ?? '')
      .digest()
    for (const file of files) {
      const bytes = readFileSync(join(p.dir, file))
      for (const needle of needles) expect(bytes.includes(needle), `${file} holds a token`).toBe(false)
      if (bytes.includes(current)) hashesFound++
    }
    // The scan can see what is there: the current token's SHA-256 is stored.
    expect(hashesFound).toBeGreaterThan(0)
    for (const r of outputs) {
      for (const t of tokens) expect(r.stderr).not.toContain(t.slice(12))
    }
    const shownIn = outputs.filter((r) => tokens.some((t) => r.stdout.includes(t.slice(12))))
    expect(shownIn).toHaveLength(tokens.length)
  })
})
