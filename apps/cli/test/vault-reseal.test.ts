// A grant saved and put back after `agent revoke` (a replayed row): the vault serves nothing and says
// how out; `aegis vault reseal` lists every row as stored, and accepts them only with --confirm.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addCredential, initProject, type Project, parseJson, removeDir } from './helpers/run-cli.js'
import { Database } from './helpers/sqlite.js'

let project: Project
const vaultFile = () => join(project.dataDir, 'vaults', 'default.db')

beforeAll(async () => {
  project = await initProject()
  await addCredential(
    project,
    ['--name', 'api', '--service', 'api', '--domains', 'api.test'],
    'api-secret-0123456789',
  )
  expect((await project.run(['agent', 'add', '--name', 'bot'])).code).toBe(0)
  expect((await project.run(['agent', 'grant', '--agent', 'bot', '--credential', 'api'])).code).toBe(0)
})
afterAll(() => removeDir(project.dir))

describe('aegis vault reseal', () => {
  it('a replayed grant refuses the vault; reseal lists the rows, and accepts them only with --confirm', async () => {
    const db = new Database(vaultFile())
    const saved = db.prepare('SELECT * FROM grants').all() as Record<string, unknown>[]
    db.close()
    expect((await project.run(['agent', 'revoke', '--agent', 'bot', '--credential', 'api'])).code).toBe(0)
    const edit = new Database(vaultFile())
    for (const row of saved) {
      const columns = Object.keys(row)
      edit
        .prepare(`INSERT INTO grants (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
        .run(...columns.map((c) => row[c]))
    }
    edit.close()

    const refused = await project.run(['agent', 'list'])
    expect([refused.code, refused.stdout]).toEqual([1, ''])
    expect(refused.stderr).toContain('its grants table does not match the set of rows Aegis last wrote')
    expect(refused.stderr).toContain('aegis vault reseal --name default --confirm')

    const listed = await project.run(['vault', 'reseal'])
    expect(listed.code).toBe(1)
    expect(listed.stdout).toContain('Vault default: its grants table is not the set of rows Aegis last wrote')
    expect(listed.stdout).toContain('  bot -> api  sealed')
    expect(listed.stdout).toContain(
      'Nothing changed. To accept these rows: aegis vault reseal --name default --confirm',
    )
    expect(listed.stdout).not.toContain('api-secret')
    expect((await project.run(['agent', 'list'])).code).toBe(1)

    const accepted = await project.run(['vault', 'reseal', '--confirm', '--json'])
    expect(accepted.code, accepted.stderr).toBe(0)
    expect(parseJson(accepted)).toMatchObject({ vault: 'default', resealed: true, changed: 'grants' })
    const after = await project.run(['agent', 'list', '--json'])
    expect(after.code, after.stderr).toBe(0)
    expect(parseJson(after)).toEqual([expect.objectContaining({ name: 'bot', grants: ['api'] })])
    const again = await project.run(['vault', 'reseal'])
    expect([again.code, again.stdout.trim().split('\n').at(-1)]).toEqual([
      0,
      'Vault default matches the rows Aegis last wrote: nothing to reseal.',
    ])
  })

  it('a rotated secret whose old ciphertext is put back: list and doctor name the credentials table, reseal --confirm accepts', async () => {
    const saved = (() => {
      const db = new Database(vaultFile())
      const [row] = db.prepare("SELECT secret FROM credentials WHERE name = 'api'").all() as Array<{
        secret: Buffer
      }>
      db.close()
      return row?.secret
    })()
    const rotated = await project.run(['vault', 'rotate', '--name', 'api', '--secret', '-'], {
      input: 'api-secret-rotated-9876543210\n',
    })
    expect(rotated.code, rotated.stderr).toBe(0)
    const edit = new Database(vaultFile())
    edit.prepare("UPDATE credentials SET secret = ? WHERE name = 'api'").run(saved)
    edit.close()

    const listed = await project.run(['vault', 'list'])
    expect([listed.code, listed.stdout]).toEqual([1, ''])
    expect(listed.stderr).toContain('its credentials table does not match the set of rows Aegis last wrote')
    expect(listed.stderr).toContain("a secret's stored ciphertext was replaced or damaged")
    expect(listed.stderr).toContain('aegis vault reseal --name default --confirm')

    const doctor = await project.run(['doctor', '--json'])
    expect(doctor.code).toBe(1)
    const report = JSON.parse(doctor.stdout) as {
      checks: Array<{ name: string; status: string; message: string }>
    }
    expect(report.checks.find((c) => c.name === 'vault rows')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(
        "its credentials table is not the set of rows Aegis last wrote (rows added, removed or put back, or a secret's stored ciphertext replaced or damaged, outside Aegis)",
      ),
    })
    for (const out of [listed.stdout, listed.stderr, doctor.stdout, doctor.stderr])
      expect(out).not.toContain('api-secret')

    const accepted = await project.run(['vault', 'reseal', '--confirm', '--json'])
    expect(accepted.code, accepted.stderr).toBe(0)
    expect(parseJson(accepted)).toMatchObject({ vault: 'default', resealed: true, changed: 'credentials' })
    expect((await project.run(['vault', 'list'])).code).toBe(0)
  })
})
