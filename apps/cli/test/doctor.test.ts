import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'
import { openVault } from '@aegis/vault'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CORRUPTIONS,
  corruptRow,
  damageAgentRate,
  editVaultFile,
  readVaultFile,
} from '../../../packages/vault/test/fixtures/corrupt-rows.js'
import { storeLegacySecret } from '../../../packages/vault/test/fixtures/legacy-rows.js'
import {
  addCredential,
  initProject,
  type Project,
  parseJson,
  removeDir,
  runCli,
  tempDir,
} from './helpers/run-cli.js'
import { keyedWorkspace, split } from './helpers/shamir.js'

interface Check {
  name: string
  status: 'pass' | 'warn' | 'fail'
  message: string
}
interface Report {
  ok: boolean
  checks: Check[]
}

const projects: Project[] = []
async function project(): Promise<Project> {
  const p = await initProject()
  projects.push(p)
  return p
}
afterEach(() => {
  for (const p of projects.splice(0)) removeDir(p.dir)
})

async function doctor(p: Project, env: Record<string, string | undefined> = {}) {
  const result = await p.run(['doctor', '--json'], { env })
  return { result, report: parseJson<Report>(result) }
}

function check(report: Report, name: string): Check {
  const found = report.checks.find((c) => c.name === name)
  if (!found) throw new Error(`no check named ${name}: ${JSON.stringify(report.checks)}`)
  return found
}

describe('aegis doctor', () => {
  it('passes every check on a healthy install (exit 0), in text and JSON', async () => {
    const p = await project()
    await addCredential(
      p,
      ['--name', 'a', '--service', 'a', '--domains', 'api.a.example', '--ttl', '30'],
      'secret-a',
    )
    const text = await p.run(['doctor'])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/0 failed/)
    const { result, report } = await doctor(p)
    expect(result.code).toBe(0)
    expect(report.ok).toBe(true)
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'config',
        'master key',
        'data dir',
        'vaults.json',
        'vault database',
        'key',
        'expiry',
        'file permissions',
        'ledger',
      ]),
    )
    for (const c of report.checks) expect(c.status, `${c.name}: ${c.message}`).toBe('pass')
    expect(check(report, 'key').message).toMatch(/1 credential/)
  })

  it('fails the key check with a wrong master key, and the master key check without one', async () => {
    const p = await project()
    const wrong = await doctor(p, { AEGIS_MASTER_KEY: 'definitely-not-the-key' })
    expect(wrong.result.code).toBe(1)
    expect(wrong.report.ok).toBe(false)
    expect(check(wrong.report, 'key')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/Invalid master key/),
    })
    expect(check(wrong.report, 'master key').status).toBe('pass')
    expect(wrong.result.stdout).not.toContain('definitely-not-the-key')

    const missing = await doctor(p, { AEGIS_MASTER_KEY: undefined })
    expect(missing.result.code).toBe(1)
    expect(check(missing.report, 'master key').status).toBe('fail')
  })

  it('fails the master key check when the config still holds the key of a split (an interrupted split)', async () => {
    const dir = tempDir()
    try {
      const key = await keyedWorkspace(dir)
      const configFile = join(dir, 'aegis.config.yaml')
      const withKey = readFileSync(configFile, 'utf8')
      await split(dir, 3, 2)
      // What a split killed between writing custody.json and rewriting the config leaves.
      writeFileSync(configFile, withKey)
      const r = await runCli(['doctor', '--json'], { cwd: dir })
      expect(r.code).toBe(1)
      expect(check(parseJson<Report>(r), 'master key')).toEqual({
        name: 'master key',
        status: 'fail',
        message: `split into shares, 2 of 3 unseal it, but ${configFile} still holds vault.master_key, so whoever reads that file has the key: delete that line (the split writes custody.json first, then removes it; an interrupted split can leave both)`,
      })
      expect(r.stdout).not.toContain(key)
      // With AEGIS_MASTER_KEY set too, the file still holds it.
      const env = await runCli(['doctor', '--json'], { cwd: dir, env: { AEGIS_MASTER_KEY: key } })
      expect(check(parseJson<Report>(env), 'master key').status).toBe('fail')
    } finally {
      removeDir(dir)
    }
  })

  it('fails on an expired credential and warns about one expiring within 7 days, naming them', async () => {
    const p = await project()
    await addCredential(
      p,
      ['--name', 'soon', '--service', 'soon', '--domains', 'api.soon.example', '--ttl', '3'],
      'soon-secret-1',
    )
    const soon = await doctor(p)
    expect(soon.result.code).toBe(0)
    expect(check(soon.report, 'expiry')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('soon'),
    })

    const vault = openVault({ dataDir: p.dataDir, name: 'default', masterKey: p.key })
    try {
      vault.add({
        name: 'old',
        service: 'old',
        secret: 'old-secret-2',
        domains: ['api.old.example'],
        expiresAt: '2020-01-01T00:00:00Z',
      })
    } finally {
      vault.close()
    }
    const expired = await doctor(p)
    expect(expired.result.code).toBe(1)
    expect(check(expired.report, 'expiry')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('old (2020-01-01)'),
    })
    const list = await p.run(['vault', 'list'])
    expect(list.stdout).toMatch(/old .*2020-01-01 \(expired\)/)
  })

  it('reports loose permissions: data dir and database warn, a readable config holding the key fails', async () => {
    const p = await project()
    chmodSync(p.dataDir, 0o755)
    chmodSync(join(p.dataDir, 'vaults', 'default.db'), 0o644)
    const loose = await doctor(p)
    expect(loose.result.code).toBe(0)
    expect(check(loose.report, 'data dir')).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/0755.*0700/),
    })
    expect(check(loose.report, 'file permissions')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('vaults/default.db (0644)'),
    })

    const dir = tempDir()
    try {
      expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
      chmodSync(join(dir, 'aegis.config.yaml'), 0o644)
      const r = await runCli(['doctor', '--json'], { cwd: dir })
      expect(r.code).toBe(1)
      const report = parseJson<Report>(r)
      expect(check(report, 'config permissions')).toMatchObject({
        status: 'fail',
        message: expect.stringMatching(/master_key.*0644/),
      })
    } finally {
      removeDir(dir)
    }
  })

  it('fails on a corrupt vaults.json, a corrupt vault database, and an invalid config', async () => {
    const p = await project()
    writeFileSync(join(p.dataDir, 'vaults.json'), 'not json')
    const registry = await doctor(p)
    expect(registry.result.code).toBe(1)
    expect(check(registry.report, 'vaults.json')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/corrupt/),
    })

    const q = await project()
    writeFileSync(join(q.dataDir, 'vaults', 'default.db'), 'garbage'.repeat(1000))
    const db = await doctor(q)
    expect(db.result.code).toBe(1)
    expect(check(db.report, 'vault database')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/corrupt/),
    })

    writeFileSync(join(q.dir, 'aegis.config.yaml'), 'gate:\n  port: high\n')
    const config = await doctor(q)
    expect(config.result.code).toBe(1)
    expect(config.report.checks).toEqual([
      { name: 'config', status: 'fail', message: expect.stringMatching(/gate\.port/) },
    ])

    // Several problems: the first, and how to see the rest.
    writeFileSync(join(q.dir, 'aegis.config.yaml'), 'gate:\n  port: high\n  prot: 1\n')
    const several = await doctor(q)
    expect(several.report.checks).toEqual([
      {
        name: 'config',
        status: 'fail',
        message:
          'aegis.config.yaml:2: gate.port: expected number, received string (and 1 more problem: aegis config validate lists them)',
      },
    ])
  })

  it('opens the ledger when present, and fails when it is corrupt', async () => {
    const p = await project()
    const ledger = openLedger({ file: join(p.dataDir, 'ledger.db') })
    await ledger.system('gate_start')
    await ledger.close()
    const ok = await doctor(p)
    expect(check(ok.report, 'ledger')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('ledger.db'),
    })

    for (const suffix of ['-wal', '-shm']) removeDir(join(p.dataDir, `ledger.db${suffix}`))
    writeFileSync(join(p.dataDir, 'ledger.db'), 'this is not a database'.repeat(200))
    const bad = await doctor(p)
    expect(bad.result.code).toBe(1)
    expect(check(bad.report, 'ledger').status).toBe('fail')
  })
})

describe('aegis doctor: every credential row, by name', () => {
  const GOOD = 'healthy-secret-value-1111'
  const brokenSecret = (i: number) => `broken-secret-value-${i}-2222`

  it('tries every row: each damaged one is a failed line naming it, its service, id and why (exit 1)', async () => {
    const p = await project()
    const vault = openVault({ dataDir: p.dataDir, name: 'default', masterKey: p.key })
    const ids = new Map<string, string>()
    try {
      vault.add({ name: 'good', service: 'good', secret: GOOD, domains: ['api.good.example'] })
      for (const i of CORRUPTIONS.keys()) {
        const info = vault.add({
          name: `bad-${i}`,
          service: `svc-${i}`,
          secret: brokenSecret(i),
          domains: ['api.bad.example'],
          rateLimit: '10/min',
        })
        ids.set(`bad-${i}`, info.id)
      }
    } finally {
      vault.close()
    }
    for (const [i, corruption] of CORRUPTIONS.entries()) {
      corruptRow(join(p.dataDir, 'vaults', 'default.db'), corruption, `bad-${i}`, 'good')
    }
    // Rows added, seals or secret ciphertexts changed outside Aegis change the set of rows: accepted as they are now
    // (vault reseal), each damaged row is still named on its own.
    expect((await p.run(['vault', 'reseal', '--confirm'])).code).toBe(0)

    const { result, report } = await doctor(p)
    expect(result.code).toBe(1)
    expect(report.ok).toBe(false)
    expect(check(report, 'key')).toMatchObject({
      status: 'pass',
      message: `master key matches vault "default"; 1 of ${CORRUPTIONS.length + 1} credential(s) load`,
    })
    for (const [i, corruption] of CORRUPTIONS.entries()) {
      const line = check(report, `credential bad-${i}`)
      expect(line.status, corruption.label).toBe('fail')
      expect(line.message).toContain(`service svc-${i} (id ${ids.get(`bad-${i}`)}) `)
      // The reason as the vault gives it; the fix follows it on the same line.
      const reason = line.message.split(`(id ${ids.get(`bad-${i}`)}) `)[1]?.split('; the gate refuses it')[0]
      expect(reason).toMatch(corruption.reason)
      expect(line.message, corruption.label).toContain(
        `; the gate refuses it (credential_unavailable). Fix: aegis vault ${corruption.repair} --name bad-${i}`,
      )
    }
    expect(report.checks.some((c) => c.name === 'credential good')).toBe(false)
    const text = await p.run(['doctor'])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/FAIL\s+credential bad-0\s+service svc-0/)
    for (const i of CORRUPTIONS.keys()) expect(text.stdout + result.stdout).not.toContain(brokenSecret(i))
    expect(text.stdout + result.stdout).not.toContain(GOOD)
  })

  it('a vault whose rows were put back outside Aegis (a grant replayed after revoke) is one failed line naming the table and the way out', async () => {
    const p = await project()
    const vault = openVault({ dataDir: p.dataDir, name: 'default', masterKey: p.key })
    try {
      vault.add({ name: 'svc', service: 'svc', secret: 'doctor-replay-secret-1', domains: ['a.example'] })
      vault.addAgent({ name: 'bot' })
      vault.grant('bot', 'svc')
    } finally {
      vault.close()
    }
    const file = join(p.dataDir, 'vaults', 'default.db')
    const saved = readVaultFile(file, 'SELECT agent_id, credential_id, created_at, seal FROM grants')
    expect((await p.run(['agent', 'revoke', '--agent', 'bot', '--credential', 'svc'])).code).toBe(0)
    for (const g of saved) {
      editVaultFile(
        file,
        'INSERT INTO grants (agent_id, credential_id, created_at, seal) VALUES (?, ?, ?, ?)',
        g.agent_id,
        g.credential_id,
        g.created_at,
        g.seal,
      )
    }
    const { result, report } = await doctor(p)
    expect(result.code).toBe(1)
    expect(check(report, 'vault rows')).toEqual({
      name: 'vault rows',
      status: 'fail',
      message:
        'vault "default": its grants table is not the set of rows Aegis last wrote (rows added, removed or put back outside Aegis); the gate serves nothing from it. Fix: if you did not make this change, find out who can write the vault; restore it from a backup, or list its rows with aegis vault reseal --name default and accept them with --confirm',
    })
    expect(report.checks.some((c) => c.name.startsWith('agent ') || c.name.startsWith('credential '))).toBe(
      false,
    )
  })

  it('names an agent whose stored row was edited, and a forged grant, and what to do (exit 1)', async () => {
    const p = await project()
    const vault = openVault({ dataDir: p.dataDir, name: 'default', masterKey: p.key })
    let id = ''
    let credentialId = ''
    try {
      credentialId = vault.add({
        name: 'svc',
        service: 'svc',
        secret: 'doctor-grant-secret-1',
        domains: ['a.example'],
      }).id
      vault.addAgent({ name: 'fine-bot' })
      vault.addAgent({ name: 'granted-bot' })
      id = vault.addAgent({ name: 'bad-bot' }).agent.id
    } finally {
      vault.close()
    }
    const file = join(p.dataDir, 'vaults', 'default.db')
    damageAgentRate(file, 'bad-bot')
    editVaultFile(
      file,
      "INSERT INTO grants SELECT id, ?, 'x', NULL FROM agents WHERE name = 'granted-bot'",
      credentialId,
    )
    expect((await p.run(['vault', 'reseal', '--confirm'])).code).toBe(0)
    const { result, report } = await doctor(p)
    expect(result.code).toBe(1)
    expect(check(report, 'agent bad-bot')).toMatchObject({
      status: 'fail',
      message: `(id ${id}) has a stored identity or limits that do not match their seal: the row was added or changed outside Aegis (or copied from another vault); the gate refuses its token. Fix: if you did not make this change, find out who can write the vault; then aegis agent remove --name bad-bot (and add it again)`,
    })
    expect(check(report, 'agent granted-bot')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(
        new RegExp(
          `^a stored grant of credential id ${credentialId} does not match its seal: it was added outside Aegis and grants nothing`,
        ),
      ),
    })
    expect(report.checks.some((c) => c.name === 'agent fine-bot')).toBe(false)
  })

  it('names credentials stored before the secret rules: short fails, padded or control characters warn', async () => {
    const p = await project()
    const legacy: [name: string, secret: string][] = [
      ['padded', 'padded-secret-value-3333 '],
      ['control', 'control-secret\u0007-value'],
      ['short', 'sh0rt-7'],
    ]
    const vault = openVault({ dataDir: p.dataDir, name: 'default', masterKey: p.key })
    try {
      for (const [name] of legacy) {
        vault.add({ name, service: name, secret: 'placeholder-secret', domains: ['api.x.example'] })
      }
    } finally {
      vault.close()
    }
    for (const [name, secret] of legacy) {
      storeLegacySecret(join(p.dataDir, 'vaults', 'default.db'), p.key, name, secret)
    }
    const { result, report } = await doctor(p)
    expect(result.code).toBe(1)
    expect(check(report, 'credential padded')).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(
        /^service padded: stored secret has a trailing space: .*Fix: aegis vault rotate --name padded$/,
      ),
    })
    expect(check(report, 'credential control')).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/contains a control character \(character U\+0007\)/),
    })
    expect(check(report, 'credential short')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/shorter than 8 bytes .*Fix: aegis vault rotate --name short$/),
    })
    expect(check(report, 'key').message).toBe('master key decrypts all 3 credential(s)')
    for (const [, secret] of legacy) expect(result.stdout).not.toContain(secret.trim())

    // Rotating the short one leaves warnings only: exit 0.
    const rotate = await p.run(['vault', 'rotate', '--name', 'short', '--secret', '-'], {
      input: 'long-enough-secret-value\n',
    })
    expect(rotate.code, rotate.stderr).toBe(0)
    const after = await doctor(p)
    expect(after.result.code).toBe(0)
    expect(after.report.checks.some((c) => c.name === 'credential short')).toBe(false)
    expect(check(after.report, 'credential padded').status).toBe('warn')
  })

  it('fails a bearer or header credential whose secret a header cannot carry (the gate refuses it)', async () => {
    const p = await project()
    // Allowed for query injection (percent-encoded), then switched to bearer: the vault cannot see the
    // secret on update, the gate refuses the service, and doctor must say so.
    await addCredential(
      p,
      ['--name', 'cjk', '--service', 'cjk', '--domains', 'api.a.example', '--auth-type', 'query'],
      '秘密-secret-value-1234',
    )
    const update = await p.run(['vault', 'update', '--name', 'cjk', '--auth-type', 'bearer'])
    expect(update.code, update.stderr).toBe(0)
    const { result, report } = await doctor(p)
    expect(result.code).toBe(1)
    expect(check(report, 'credential cjk')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(
        /^service cjk: its secret has a character beyond U\+00FF, which the bearer header .*Fix: aegis vault update --name cjk --auth-type basic/,
      ),
    })
    expect(result.stdout).not.toContain('秘密')
  })

  it('one pass line when every row loads and every secret can be recognised', async () => {
    const p = await project()
    await addCredential(p, ['--name', 'a', '--service', 'a', '--domains', 'api.a.example'], 'secret-a-value')
    const { report } = await doctor(p)
    expect(check(report, 'credentials')).toEqual({
      name: 'credentials',
      status: 'pass',
      message: 'all 1 credential(s) load and have secrets the gate can recognise',
    })
  })
})
