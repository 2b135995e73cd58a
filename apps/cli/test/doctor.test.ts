import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'
import { openVault } from '@aegis/vault'
import { afterEach, describe, expect, it } from 'vitest'
import {
  addCredential,
  initProject,
  type Project,
  parseJson,
  removeDir,
  runCli,
  tempDir,
} from './helpers/run-cli.js'

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

  it('fails on an expired credential and warns about one expiring within 7 days, naming them', async () => {
    const p = await project()
    await addCredential(
      p,
      ['--name', 'soon', '--service', 'soon', '--domains', 'api.soon.example', '--ttl', '3'],
      's1',
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
        secret: 's2',
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
