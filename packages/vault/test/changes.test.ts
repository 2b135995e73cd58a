import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openVault } from '../src/index.js'
import { MASTER_KEY, newVault, sampleCredential, tempDataDir, track } from './helpers.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

describe('changeToken', () => {
  it('is stable while nothing changes, and changes after this connection writes', () => {
    const v = newVault()
    const t0 = v.changeToken()
    expect(v.changeToken()).toBe(t0)
    v.list()
    expect(v.changeToken()).toBe(t0)
    v.add(sampleCredential())
    const t1 = v.changeToken()
    expect(t1).not.toBe(t0)
    v.update('slack-bot', { scopes: ['read'] })
    expect(v.changeToken()).not.toBe(t1)
  })

  it('changes after another connection commits', () => {
    const dataDir = tempDataDir()
    const gate = newVault(dataDir)
    const cli = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    const t0 = gate.changeToken()
    cli.add(sampleCredential())
    const t1 = gate.changeToken()
    expect(t1).not.toBe(t0)
    expect(gate.list().map((c) => c.name)).toEqual(['slack-bot'])
    cli.rotate('slack-bot', 'new-secret')
    expect(gate.changeToken()).not.toBe(t1)
    expect(gate.get('slack-bot')?.secret.reveal()).toBe('new-secret')
  })

  it('does not change when another connection only reads or a write fails', () => {
    const dataDir = tempDataDir()
    const gate = newVault(dataDir)
    gate.add(sampleCredential())
    const cli = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    const t0 = gate.changeToken()
    cli.list()
    cli.loadAll()
    expect(() => cli.add(sampleCredential())).toThrow()
    expect(() => gate.add(sampleCredential())).toThrow()
    expect(gate.changeToken()).toBe(t0)
  })

  it('changes after a write by another process', () => {
    const v = newVault()
    v.add(sampleCredential())
    const t0 = v.changeToken()
    const script = `
      const Database = require('better-sqlite3')
      const db = new Database(process.argv[1])
      db.pragma('busy_timeout = 5000')
      db.prepare("UPDATE credentials SET updated_at = '2030-01-01T00:00:00.000Z'").run()
      db.close()
    `
    execFileSync(process.execPath, ['-e', script, v.file], { cwd: packageDir, stdio: 'pipe' })
    expect(v.changeToken()).not.toBe(t0)
    // (An unsealed column: the settings themselves only change through a vault holding the key.)
    expect(v.list()[0]?.updatedAt).toBe('2030-01-01T00:00:00.000Z')
  })
})

describe('concurrent writers', () => {
  it('two connections adding in turn keep every row and a sound database', () => {
    const dataDir = tempDataDir()
    const a = newVault(dataDir)
    const b = track(openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }))
    for (let i = 0; i < 50; i++) {
      const writer = i % 2 === 0 ? a : b
      writer.add(sampleCredential({ name: `cred-${i}`, service: `svc-${i}`, secret: `secret-${i}` }))
      if (i % 10 === 9) (i % 2 === 0 ? b : a).rotate(`cred-${i - 1}`, `rotated-${i - 1}`)
    }
    // Both see the same duplicate rules: a name the other connection took is refused.
    expect(() => a.add(sampleCredential({ name: 'cred-1', service: 'fresh' }))).toThrow(/already exists/)
    const all = a.loadAll()
    expect(all).toHaveLength(50)
    expect(b.loadAll().map((c) => c.secret.reveal())).toEqual(all.map((c) => c.secret.reveal()))
    expect(a.get('cred-8')?.secret.reveal()).toBe('rotated-8')
    expect(a.get('cred-9')?.secret.reveal()).toBe('secret-9')
    a.close()
    b.close()
    const db = new Database(`${dataDir}/vaults/default.db`)
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    db.close()
  })

  it('a child process writing at the same time as this one loses nothing', () => {
    const v = newVault()
    const script = `
      const Database = require('better-sqlite3')
      const db = new Database(process.argv[1])
      db.pragma('busy_timeout = 5000')
      const ins = db.prepare("INSERT INTO meta (key, value) VALUES (?, 'x')")
      for (let i = 0; i < 200; i++) db.transaction(() => ins.run('child-' + i)).immediate()
      db.close()
    `
    const child = import('node:child_process').then(
      ({ execFile }) =>
        new Promise<void>((resolve, reject) =>
          execFile(process.execPath, ['-e', script, v.file], { cwd: packageDir }, (err) =>
            err ? reject(err) : resolve(),
          ),
        ),
    )
    for (let i = 0; i < 40; i++)
      v.add(sampleCredential({ name: `c${i}`, service: `s${i}`, secret: `value-${i}-secret` }))
    return child.then(() => {
      expect(v.loadAll()).toHaveLength(40)
      const db = new Database(v.file)
      expect(
        (db.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'child-%'").get() as { n: number }).n,
      ).toBe(200)
      db.close()
    })
  })
})
