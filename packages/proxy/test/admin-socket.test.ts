import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type AdminAuthorize,
  type AdminServer,
  type AdminStatus,
  adminSockets,
  callAdmin,
  createAdminServer,
  isNotListening,
} from '../src/internal.js'

const roots: string[] = []
const servers: AdminServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true })
})

function runDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'aegis-admin-'))
  roots.push(root)
  return join(root, 'run')
}

/** Handlers over a tiny state machine: two shares unseal; a share "bad" is refused. */
function fakeHandlers() {
  const calls: string[] = []
  let state: AdminStatus = { sealed: true, threshold: 2, progress: 0 }
  return {
    calls,
    handlers: {
      status: () => state,
      unseal: async (share: string, caller?: string) => {
        calls.push(caller === undefined ? `unseal:${share}` : `unseal:${share}:${caller}`)
        if (share === 'bad') throw new Error('Share 1 fails its checksum')
        const progress = state.progress + 1
        state = progress >= 2 ? { sealed: false, threshold: 2, progress: 0 } : { ...state, progress }
        return state
      },
      resetUnseal: () => {
        calls.push('reset')
        state = { ...state, progress: 0 }
        return state
      },
      seal: (caller?: string) => {
        calls.push(caller === undefined ? 'seal' : `seal:${caller}`)
        state = { sealed: true, threshold: 2, progress: 0 }
        return state
      },
    },
  }
}

async function start(dir: string, authorize: AdminAuthorize = () => ({ ok: true })) {
  const fake = fakeHandlers()
  const server = createAdminServer({ dir, authorize, handlers: fake.handlers })
  servers.push(server)
  const path = await server.listen()
  return { ...fake, path, server }
}

describe('admin socket', () => {
  it('hands the caller the verdict named to unseal and seal (the host records who did it)', async () => {
    const { path, calls } = await start(runDir(), (token) =>
      token === 'root-token' ? { ok: true, caller: 'root' } : { ok: true },
    )
    await callAdmin(path, { method: 'POST', path: '/unseal', body: { share: 'a' }, token: 'root-token' })
    await callAdmin(path, { method: 'POST', path: '/seal', token: 'root-token' })
    await callAdmin(path, { method: 'POST', path: '/seal' })
    expect(calls).toEqual(['unseal:a:root', 'seal:root', 'seal'])
  })

  it('lives in a 0700 directory and speaks status / unseal / reset / seal', async () => {
    const dir = runDir()
    const { path } = await start(dir)
    expect(path).toBe(join(dir, 'admin.sock'))
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(path).isSocket()).toBe(true)
    expect(adminSockets(dir)).toEqual([path])

    expect(await callAdmin(path, { method: 'GET', path: '/status' })).toEqual({
      status: 200,
      body: { sealed: true, threshold: 2, progress: 0 },
    })
    expect((await callAdmin(path, { method: 'POST', path: '/unseal', body: { share: 'a' } })).body).toEqual({
      sealed: true,
      threshold: 2,
      progress: 1,
    })
    expect(
      (await callAdmin(path, { method: 'POST', path: '/unseal', body: { reset: true } })).body,
    ).toMatchObject({
      progress: 0,
    })
    await callAdmin(path, { method: 'POST', path: '/unseal', body: { share: 'a' } })
    expect(
      (await callAdmin(path, { method: 'POST', path: '/unseal', body: { share: 'b' } })).body,
    ).toMatchObject({
      sealed: false,
    })
    expect((await callAdmin(path, { method: 'POST', path: '/seal' })).body).toMatchObject({ sealed: true })
  })

  it('answers a refused share with 400 and the handler message; a bad body or path is refused', async () => {
    const { path } = await start(runDir())
    expect(await callAdmin(path, { method: 'POST', path: '/unseal', body: { share: 'bad' } })).toEqual({
      status: 400,
      body: { error: 'Share 1 fails its checksum' },
    })
    expect((await callAdmin(path, { method: 'POST', path: '/unseal', body: { share: 42 } })).status).toBe(400)
    expect((await callAdmin(path, { method: 'GET', path: '/seal' })).status).toBe(404)
  })

  it('asks authorize first, with the bearer token, and does nothing when it refuses', async () => {
    const seen: (string | undefined)[] = []
    const { path, calls } = await start(runDir(), (token) => {
      seen.push(token)
      return token === 'aegis_user_admin'
        ? { ok: true }
        : { ok: false, status: 403, message: 'operator may not vault:seal' }
    })
    for (const [p, body] of [
      ['/seal', undefined],
      ['/unseal', { share: 'a' }],
      ['/unseal', { reset: true }],
    ] as const) {
      for (const token of [undefined, 'aegis_user_operator']) {
        const reply = await callAdmin(path, { method: 'POST', path: p, body, token })
        expect(reply).toEqual({ status: 403, body: { error: 'operator may not vault:seal' } })
      }
    }
    expect(calls).toEqual([])
    expect(seen).toContain(undefined)
    expect(seen).toContain('aegis_user_operator')
    expect((await callAdmin(path, { method: 'POST', path: '/seal', token: 'aegis_user_admin' })).status).toBe(
      200,
    )
    expect(calls).toEqual(['seal'])
  })

  it('waits for an asynchronous authorize (users in PostgreSQL); a refusal or a failure to decide does nothing', async () => {
    let fail = false
    const { path, calls } = await start(runDir(), async (token) => {
      await new Promise((r) => setTimeout(r, 20))
      if (fail) throw new Error('users unavailable: PostgreSQL does not answer')
      return token === 'aegis_user_admin'
        ? { ok: true }
        : { ok: false, status: 403, message: 'operator may not vault:seal' }
    })
    expect(await callAdmin(path, { method: 'POST', path: '/seal', token: 'aegis_user_operator' })).toEqual({
      status: 403,
      body: { error: 'operator may not vault:seal' },
    })
    fail = true
    expect((await callAdmin(path, { method: 'POST', path: '/seal', token: 'aegis_user_admin' })).status).toBe(
      400,
    )
    expect(calls).toEqual([])
    fail = false
    expect((await callAdmin(path, { method: 'POST', path: '/seal', token: 'aegis_user_admin' })).status).toBe(
      200,
    )
    expect(calls).toEqual(['seal'])
  })

  it('replaces a stale socket file, and a second live gate takes a socket of its own', async () => {
    const dir = runDir()
    // A socket left by a gate that died: bound once, then its server closed without unlinking.
    const first = await start(dir)
    await first.server.close()
    const stale = createServer()
    await new Promise<void>((r) => stale.listen(join(dir, 'admin.sock'), r))
    // Closing a net server unlinks its socket; put a plain file in its place, as a crash leaves one.
    await new Promise<void>((r) => stale.close(() => r()))
    writeFileSync(join(dir, 'admin.sock'), '')
    const second = await start(dir)
    expect(second.path).toBe(join(dir, 'admin.sock'))
    const third = await start(dir)
    expect(third.path).toBe(join(dir, `admin-${process.pid}.sock`))
    expect(adminSockets(dir).sort()).toEqual([second.path, third.path].sort())
    await third.server.close()
    expect(existsSync(third.path)).toBe(false)
  })

  it('a missing socket is "not listening"', async () => {
    const error = await callAdmin(join(runDir(), 'admin.sock'), { method: 'GET', path: '/status' }).catch(
      (e) => e,
    )
    expect(isNotListening(error)).toBe(true)
  })
})

describe('admin socket path length', () => {
  it('refuses a path Node would truncate (it would bind outside the private directory)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'aegis-admin-'))
    roots.push(root)
    const dir = join(root, 'd'.repeat(120 - root.length), 'run')
    const server = createAdminServer({
      dir,
      authorize: () => ({ ok: true }),
      handlers: fakeHandlers().handlers,
    })
    await expect(server.listen()).rejects.toThrow(/more than the 103 a Unix socket allows/)
    // Nothing was created: not the directory, and no truncated socket beside it.
    expect(existsSync(dir)).toBe(false)
    const { readdirSync } = await import('node:fs')
    expect(readdirSync(root)).toEqual([])
    await expect(callAdmin(join(dir, 'admin.sock'), { method: 'GET', path: '/status' })).rejects.toThrow(
      /Unix socket allows/,
    )
  })
})
