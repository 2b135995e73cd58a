import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AccessError, AccessStore, accessFile, addUser, BOOTSTRAP, resolveActor } from '../src/index.js'

let dir: string
let file: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-access-'))
  file = accessFile(dir)
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function open(): AccessStore {
  const store = AccessStore.open({ file, create: true })
  if (store === null) throw new Error('not created')
  return store
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    if (error instanceof AccessError) return error.code
    throw error
  }
  return undefined
}

describe('bootstrap', () => {
  it('is a missing file: nothing is created by reading, every actor is bootstrap', () => {
    expect(AccessStore.open({ file })).toBeNull()
    expect(resolveActor({ file, token: undefined })).toBe(BOOTSTRAP)
    expect(resolveActor({ file, token: 'aegis_user_whatever' })).toBe(BOOTSTRAP)
    expect(readdirSync(dir)).toEqual([])
  })

  it('creates the file with mode 0600 on the first add, and never leaves side files', () => {
    const store = open()
    store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
    store.close()
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['access.db'])
  })

  it.each(['operator', 'viewer'])(
    'refuses a first user who is not an admin (%s), and stays in bootstrap',
    (role) => {
      const store = open()
      expect(codeOf(() => store.addUser(BOOTSTRAP, { name: 'x', role }))).toBe('first_user_must_be_admin')
      expect(store.bootstrapCompletedAt()).toBeNull()
      expect(store.listUsers()).toEqual([])
      store.close()
    },
  )

  it('addUser refuses a first non-admin, a bad name or a bad role before creating the file', () => {
    expect(codeOf(() => addUser({ file, actor: BOOTSTRAP, name: 'op', role: 'operator' }))).toBe(
      'first_user_must_be_admin',
    )
    expect(codeOf(() => addUser({ file, actor: BOOTSTRAP, name: 'a b', role: 'admin' }))).toBe(
      'invalid_input',
    )
    expect(codeOf(() => addUser({ file, actor: BOOTSTRAP, name: 'ab', role: 'root' }))).toBe('invalid_input')
    expect(readdirSync(dir)).toEqual([])
    expect(addUser({ file, actor: BOOTSTRAP, name: 'root', role: 'admin' }).role).toBe('admin')
    expect(readdirSync(dir)).toEqual(['access.db'])
  })

  it('ends for good with the first admin: removing every user by hand does not reopen it', () => {
    const store = open()
    const { token } = store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
    expect(store.bootstrapCompletedAt()).toBeInstanceOf(Date)
    expect(codeOf(() => store.addUser(BOOTSTRAP, { name: 'late', role: 'admin' }))).toBe(
      'authentication_required',
    )
    store.close()
    const raw = new Database(file)
    raw.prepare('DELETE FROM users').run()
    raw.close()
    expect(codeOf(() => resolveActor({ file, token: undefined }))).toBe('authentication_required')
    expect(codeOf(() => resolveActor({ file, token }))).toBe('invalid_token')
  })
})

describe('tokens', () => {
  it('authenticate their user; a typo, an unknown token and a regenerated one are invalid', () => {
    const store = open()
    const root = store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
    const actor = store.resolveActor(root.token)
    expect(actor).toMatchObject({ kind: 'user', name: 'root', role: 'admin' })
    const typo = root.token.slice(0, 30) + (root.token[30] === 'a' ? 'b' : 'a') + root.token.slice(31)
    expect(codeOf(() => store.resolveActor(typo))).toBe('invalid_token')
    expect(codeOf(() => store.resolveActor(''))).toBe('authentication_required')
    const alice = store.addUser(actor, { name: 'alice', role: 'operator' })
    const again = store.regenerateToken(actor, { name: 'alice' })
    expect(again.token).not.toBe(alice.token)
    expect(codeOf(() => store.resolveActor(alice.token))).toBe('invalid_token')
    expect(store.resolveActor(again.token)).toMatchObject({ name: 'alice', role: 'operator' })
    store.removeUser(actor, { name: 'alice' })
    expect(codeOf(() => store.resolveActor(again.token))).toBe('invalid_token')
    store.close()
  })

  it('are stored as SHA-256 only: no token or its secret part is anywhere in the file', () => {
    const store = open()
    const { token } = store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
    store.close()
    const bytes = readFileSync(file).toString('latin1')
    expect(bytes).not.toContain(token)
    expect(bytes).not.toContain(token.slice(20, 63))
  })

  it('are never listed', () => {
    const store = open()
    const { token } = store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
    const list = store.listUsers()
    expect(list).toEqual([
      {
        name: 'root',
        role: 'admin',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        lastUsedAt: null,
      },
    ])
    expect(JSON.stringify(list)).not.toContain(token.slice(11, 19))
    store.close()
  })
})

describe('authorisation inside the store', () => {
  it('refuses writes by a role without user:write, and a user removed meanwhile', () => {
    const store = open()
    const root = store.resolveActor(store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' }).token)
    const op = store.resolveActor(store.addUser(root, { name: 'op', role: 'operator' }).token)
    expect(() => store.addUser(op, { name: 'x', role: 'viewer' })).toThrow('operator may not user:write')
    const second = store.resolveActor(store.addUser(root, { name: 'second', role: 'admin' }).token)
    store.removeUser(root, { name: 'second' })
    expect(codeOf(() => store.addUser(second, { name: 'x', role: 'viewer' }))).toBe('invalid_token')
    store.close()
  })

  it('refuses bad names, bad roles and duplicates with clear words', () => {
    const store = open()
    const root = store.resolveActor(store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' }).token)
    expect(() => store.addUser(root, { name: 'root', role: 'viewer' })).toThrow('User "root" already exists')
    expect(() => store.addUser(root, { name: 'has space', role: 'viewer' })).toThrow('Invalid user name')
    expect(() => store.addUser(root, { name: 'x', role: 'superuser' })).toThrow('Invalid role')
    expect(() => store.setRole(root, { name: 'ghost', role: 'viewer' })).toThrow('No user named "ghost"')
    store.close()
  })
})

describe('the last admin', () => {
  it('cannot be demoted or removed; with a second admin either works', () => {
    const store = open()
    const root = store.resolveActor(store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' }).token)
    expect(codeOf(() => store.setRole(root, { name: 'root', role: 'operator' }))).toBe('last_admin')
    expect(codeOf(() => store.removeUser(root, { name: 'root' }))).toBe('last_admin')
    store.addUser(root, { name: 'other', role: 'admin' })
    store.setRole(root, { name: 'other', role: 'viewer' })
    expect(codeOf(() => store.removeUser(root, { name: 'root' }))).toBe('last_admin')
    store.setRole(root, { name: 'other', role: 'admin' })
    store.removeUser(root, { name: 'root' })
    expect(store.listUsers().map((u) => [u.name, u.role])).toEqual([['other', 'admin']])
    store.close()
  })

  it('survives two processes demoting the two admins at the same moment (many rounds)', async () => {
    const store = open()
    const a = store.addUser(BOOTSTRAP, { name: 'a', role: 'admin' })
    const actorA = store.resolveActor(a.token)
    const b = store.addUser(actorA, { name: 'b', role: 'admin' })
    store.close()
    for (let round = 0; round < 6; round++) {
      // Each admin demotes itself: without the immediate transaction both count one other admin
      // and both pass, leaving none.
      const start = Date.now() + 1000
      const results = await Promise.all([
        demoteInChild(file, a.token, 'a', start),
        demoteInChild(file, b.token, 'b', start),
      ])
      const check = AccessStore.open({ file }) as AccessStore
      const admins = check.listUsers().filter((u) => u.role === 'admin')
      expect(admins.length, `round ${round}: ${results.join(' / ')}`).toBeGreaterThanOrEqual(1)
      // Put both back for the next round.
      const admin = check.resolveActor(admins[0]?.name === 'a' ? a.token : b.token)
      check.setRole(admin, { name: 'a', role: 'admin' })
      check.setRole(admin, { name: 'b', role: 'admin' })
      check.close()
      // One demotion passes, the other is refused as the last admin (never a lock error).
      expect(results.sort(), `round ${round}`).toEqual(['last_admin', 'ok'])
    }
  }, 60_000)
})

/** Demotes `target` in a separate Node process; resolves 'ok' or the refusal code. */
function demoteInChild(file: string, token: string, target: string, start: number): Promise<string> {
  const script = `
    import { AccessStore } from '@aegis/access'
    const store = AccessStore.open({ file: process.env.FILE })
    try {
      const actor = store.resolveActor(process.env.TOKEN)
      // Both processes loaded and opened the store: now write at the same moment.
      while (Date.now() < Number(process.env.START));
      store.setRole(actor, { name: process.env.TARGET, role: 'operator' })
      process.stdout.write('ok')
    } catch (e) { process.stdout.write(e.code ?? e.message) } finally { store.close() }`
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@aegis/source', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: join(import.meta.dirname, '..'),
        env: { ...process.env, FILE: file, TOKEN: token, TARGET: target, START: String(start) },
      },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      err += d
    })
    child.on('error', reject)
    child.on('exit', () => resolve(out || `stderr: ${err}`))
  })
}

describe('a damaged store', () => {
  it('is refused in one line naming the file and the way out, without the SQL drizzle ran', () => {
    addUser({ file, actor: BOOTSTRAP, name: 'root', role: 'admin' })
    const expected = `User store is corrupted: ${file} is not a valid database: restore it from a backup, or move it aside: where RBAC was on, the holder of the master key then adds a new first admin (aegis user recover --name <name>); where it never was, that is bootstrap (aegis user add --name <name> --role admin)`
    // Random bytes over the whole file, and the header alone overwritten.
    for (const damage of [
      () => writeFileSync(file, randomBytes(4096)),
      () => {
        const bytes = readFileSync(file)
        bytes.write('not a database header', 0)
        writeFileSync(file, bytes)
      },
    ]) {
      damage()
      let refusal: unknown
      try {
        resolveActor({ file, token: undefined })
      } catch (error) {
        refusal = error
      }
      expect(refusal).toBeInstanceOf(AccessError)
      expect(refusal).toMatchObject({ code: 'corrupt', message: expected })
    }
  })
})
