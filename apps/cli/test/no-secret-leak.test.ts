import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type CliResult, listFiles, removeDir, runCli, tempDir } from './helpers/run-cli.js'

/** A secret and every encoding of it that would still give it away. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  return [
    secret,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    encodeURIComponent(secret),
  ]
}

describe('a full CLI session never reveals a credential secret', () => {
  const dir = tempDir()
  afterAll(() => removeDir(dir))
  const secret = (label: string) => `sk-${label}-${randomBytes(24).toString('hex')}`
  const secrets = {
    stdin: secret('stdin'),
    argv: secret('argv'),
    rotated: secret('rotated'),
    staging: secret('staging'),
    refusedDuplicate: secret('dup'),
    refusedDomain: secret('domain'),
    refusedKey: secret('wrongkey'),
    forgottenFlag: secret('forgot'),
  }

  it('keeps every secret out of stdout, stderr and every file written', async () => {
    const outputs: CliResult[] = []
    const run = async (
      args: string[],
      opts: { env?: Record<string, string | undefined>; input?: string } = {},
    ) => {
      const r = await runCli(args, { cwd: dir, env: { ...env, ...opts.env }, input: opts.input })
      outputs.push(r)
      return r
    }
    const env: Record<string, string | undefined> = {}
    const init = await run(['init', '--json'])
    env.AEGIS_MASTER_KEY = JSON.parse(init.stdout).masterKey

    const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0)
    ok(
      await run(
        [
          'vault',
          'add',
          '--name',
          'slack',
          '--service',
          'slack',
          '--domains',
          'api.slack.com',
          '--secret',
          '-',
          '--json',
        ],
        { input: `${secrets.stdin}\n` },
      ),
    )
    ok(
      await run([
        'vault',
        'add',
        '--name',
        'gh',
        '--service',
        'github',
        '--domains',
        'api.github.com',
        '--secret',
        secrets.argv,
        '--auth-type',
        'basic',
      ]),
    )
    ok(await run(['vault', 'list']))
    ok(await run(['vault', 'list', '--json']))
    ok(await run(['vault', 'update', '--name', 'gh', '--scopes', 'read', '--ttl', '10', '--json']))
    ok(await run(['vault', 'rotate', '--name', 'slack', '--secret', '-'], { input: secrets.rotated }))
    ok(await run(['vault', 'create', '--name', 'staging']))
    ok(
      await run(
        ['vault', 'add', '--name', 's', '--service', 's', '--domains', 'api.s.example', '--secret', '-'],
        { env: { AEGIS_VAULT: 'staging' }, input: secrets.staging },
      ),
    )
    ok(await run(['vault', 'vaults', '--json']))
    ok(await run(['config', 'show']))
    ok(await run(['config', 'show', '--json']))
    ok(await run(['config', 'validate']))
    ok(await run(['doctor']))
    ok(await run(['doctor', '--json']))

    // Refusals that carry a secret in their input.
    const refused = [
      await run([
        'vault',
        'add',
        '--name',
        'slack',
        '--service',
        'x',
        '--domains',
        'api.x.example',
        '--secret',
        secrets.refusedDuplicate,
      ]),
      await run(['vault', 'add', '--name', 'y', '--service', 'y', '--domains', '*.com', '--secret', '-'], {
        input: secrets.refusedDomain,
      }),
      await run(
        [
          'vault',
          'add',
          '--name',
          'z',
          '--service',
          'z',
          '--domains',
          'api.z.example',
          '--secret',
          secrets.refusedKey,
        ],
        { env: { AEGIS_MASTER_KEY: 'wrong' } },
      ),
      await run(['vault', 'rotate', '--name', 'slack', '--secret', secrets.refusedKey], {
        env: { AEGIS_MASTER_KEY: 'wrong' },
      }),
      // A forgotten --secret makes the secret a stray argument: the parser error must not echo it.
      await run([
        'vault',
        'add',
        '--name',
        'w',
        '--service',
        'w',
        '--domains',
        'api.w.example',
        secrets.forgottenFlag,
      ]),
      await run(['vault', 'rotate', '--name', 'slack', secrets.forgottenFlag]),
    ]
    for (const r of refused) expect(r.code).not.toBe(0)
    expect(refused[4]?.stderr).toMatch(/Unexpected argument \(1, not shown/)

    ok(await run(['vault', 'remove', '--name', 'gh']))
    ok(await run(['vault', 'destroy', '--name', 'staging', '--confirm']))

    const printed = outputs.map((r) => r.stdout + r.stderr).join('\n')
    const files = listFiles(dir)
    expect(files).toEqual(
      expect.arrayContaining(['aegis.config.yaml', '.aegis/vaults.json', '.aegis/vaults/default.db']),
    )
    for (const [label, value] of Object.entries(secrets)) {
      for (const form of encodings(value)) {
        expect(printed.includes(form), `${label} printed as ${form}`).toBe(false)
        for (const file of files) {
          expect(readFileSync(join(dir, file)).includes(Buffer.from(form)), `${label} in ${file}`).toBe(false)
        }
      }
    }
    // The master key itself is printed once (by init) and never written to a file.
    for (const file of files) {
      expect(readFileSync(join(dir, file)).includes(Buffer.from(String(env.AEGIS_MASTER_KEY))), file).toBe(
        false,
      )
    }
  })
})
