import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { adminSockets, callAdmin } from '@aegis/proxy/internal'
import { openVault } from '@aegis/vault'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { BIN, listFiles, removeDir, runCli, tempDir } from './helpers/run-cli.js'
import { keyedWorkspace, shareData, split } from './helpers/shamir.js'

/** Written out, not imported: the test fails when the refusal loses its meaning or way out. */
const INVALID_TOKEN_LINE =
  "Invalid user token: AEGIS_USER_TOKEN is no user's token (mistyped, or regenerated or removed since); an admin can issue a new one: aegis user regenerate-token --name <you>"

const SECRET = 'xoxb-gate-custody-secret-5150'

/**
 * A gate started with the key split and no key at hand: it serves sealed, is unsealed over its
 * admin socket by `vault unseal` (the key stays in its memory: no unsealed.key), and `vault seal`
 * stops it serving at once.
 */
let dir: string
let upstream: TestUpstream
let gate: ChildProcess
let port: number
let output = ''
let masterKey: string
let shares: string[]

function get(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { 'X-Target-Host': 'api.example.test' }, agent: false },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

const health = async () => JSON.parse((await get('/_aegis/health')).body) as Record<string, unknown>

beforeAll(async () => {
  dir = tempDir()
  upstream = await startUpstream()
  const caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, testPki().caCert)
  masterKey = await keyedWorkspace(dir, SECRET)
  shares = await split(dir, 3, 2)
  gate = spawn(
    process.execPath,
    [
      BIN,
      'gate',
      '--port',
      '0',
      '--upstream-ca',
      caFile,
      '--resolve',
      `api.example.test:443:127.0.0.1:${upstream.port}`,
    ],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  gate.stdout?.setEncoding('utf8').on('data', (d: string) => {
    output += d
  })
  gate.stderr?.setEncoding('utf8').on('data', (d: string) => {
    output += d
  })
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gate did not start:\n${output}`)), 15_000)
    const check = () => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      // Wait for the sealed warning too: it is printed once the admin socket listens.
      if (match && output.includes('The vault is sealed')) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    gate.stdout?.on('data', check)
    gate.stderr?.on('data', check)
    gate.once('exit', (code) => reject(new Error(`gate exited ${code}:\n${output}`)))
  })
}, 60_000)

afterAll(async () => {
  gate.kill('SIGTERM')
  await new Promise((r) => gate.once('exit', r))
  await upstream.close()
  removeDir(dir)
})

describe('a gate started sealed', () => {
  it('listens, says so, and its health is 503 sealed:true', async () => {
    expect(output).toMatch(/The vault is sealed: every request is refused \(503 sealed\)/)
    const reply = await get('/_aegis/health')
    expect(reply.status).toBe(503)
    expect(JSON.parse(reply.body)).toMatchObject({ status: 'sealed', sealed: true })
    // Prometheus can alert on it (its credentials read 0 while sealed, as an empty vault would).
    expect((await get('/_aegis/metrics')).body).toMatch(/^aegis_sealed 1$/m)
    const run = join(dir, '.aegis', 'run')
    expect(statSync(run).mode & 0o777).toBe(0o700)
    expect(statSync(join(run, 'admin.sock')).isSocket()).toBe(true)
  })

  it('refuses a proxied request with 503 sealed, recorded in the ledger, upstream untouched', async () => {
    const before = upstream.received.length
    const reply = await get('/slack/api/auth.test')
    expect(reply.status).toBe(503)
    expect(reply.headers['x-aegis-block']).toBe('sealed')
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'sealed', status: 503 })
    expect(upstream.received.length).toBe(before)
    const ledger = await runCli(['ledger', 'show', '--json'], { cwd: dir })
    expect(ledger.code, ledger.stderr).toBe(0)
    expect(JSON.parse(ledger.stdout)).toContainEqual(
      expect.objectContaining({ service: 'slack', decision: 'blocked', code: 'sealed', status: 503 }),
    )
  })

  it('takes shares one at a time over the socket, then serves; no unsealed.key is written', async () => {
    const first = await runCli(['vault', 'unseal', '--key-share', '-', '--json'], {
      cwd: dir,
      input: `${shares[0]}\n`,
    })
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout)).toEqual({
      sealed: true,
      threshold: 2,
      progress: 1,
      target: 'gate',
      gates: 1,
      unsealedKey: null,
    })
    expect((await health()).sealed).toBe(true)
    // The same share again is counted once, and its holder is told so.
    const again = await runCli(['vault', 'unseal', '--key-share', '-'], { cwd: dir, input: `${shares[0]}\n` })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain(
      'That share was given already (counted once). The running gate holds 1 of 2 shares: give the rest within 10 minutes',
    )

    const second = await runCli(['vault', 'unseal', '--key-share', '-'], {
      cwd: dir,
      input: `${shares[2]}\n`,
    })
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain(
      'Unsealed 1 running gate: the key is in its memory only; CLI commands stay sealed (add --key-file to write unsealed.key for them too).',
    )
    expect(existsSync(join(dir, '.aegis', 'unsealed.key'))).toBe(false)
    expect(await health()).toMatchObject({ status: 'ok', sealed: false, credentials: 1 })
    expect((await get('/_aegis/metrics')).body).toMatch(/^aegis_sealed 0$/m)

    const reply = await get('/slack/api/auth.test')
    expect(reply.status).toBe(200)
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`)
    // The CLI itself stays sealed: the key went to the gate only. The advice names the flag that
    // gets the key to the CLI too (the same unseal again would only reach the gate again).
    const listed = await runCli(['vault', 'list'], { cwd: dir })
    expect(listed.stderr).toMatch(/^Error: Vault is sealed/)
    expect(listed.stderr).toContain('--key-file')
    // doctor has no key either, but says the gate serves with the key in its memory.
    const doctor = await runCli(['doctor', '--json'], { cwd: dir })
    const { checks } = JSON.parse(doctor.stdout) as {
      checks: { name: string; status: string; message: string }[]
    }
    const key = checks.find((c) => c.name === 'master key')
    expect(key).toMatchObject({ status: 'warn' })
    expect(key?.message).toContain(
      'the running gate holds it in memory (unsealed over its admin socket) and serves',
    )
  })

  it('a bad share is refused by the CLI before it reaches the gate', async () => {
    const r = await runCli(['vault', 'unseal', '--key-share', 'aegis-share-v1.x'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: Share 1 is not an Aegis key share/)
  })

  it('vault seal makes it refuse requests within 1 s', async () => {
    const r = await runCli(['vault', 'seal', '--json'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const sealedAt = Date.now()
    expect(JSON.parse(r.stdout)).toEqual({
      sealed: true,
      unsealedKeyRemoved: false,
      gatesSealed: 1,
      sharedSealed: false,
    })
    const before = upstream.received.length
    const reply = await get('/slack/api/auth.test')
    expect(Date.now() - sealedAt).toBeLessThan(1000)
    expect(reply.status).toBe(503)
    expect(reply.headers['x-aegis-block']).toBe('sealed')
    expect(upstream.received.length).toBe(before)
    expect(await health()).toMatchObject({ sealed: true, credentials: 0 })
  })

  it('a whole set given while one of its shares is pending unseals it (the pending share counts once)', async () => {
    const first = await runCli(['vault', 'unseal', '--key-share', '-', '--json'], {
      cwd: dir,
      input: `${shares[0]}\n`,
    })
    expect(JSON.parse(first.stdout)).toMatchObject({ sealed: true, progress: 1 })
    const whole = await runCli(['vault', 'unseal', '--key-share', '-', '--json'], {
      cwd: dir,
      input: `${shares[0]}\n${shares[1]}\n`,
    })
    expect(whole.code, whole.stderr).toBe(0)
    expect(whole.stderr).toBe('')
    expect(JSON.parse(whole.stdout)).toMatchObject({ sealed: false, progress: 0, gates: 1 })
    expect(await health()).toMatchObject({ status: 'ok', sealed: false })
    expect((await runCli(['vault', 'seal'], { cwd: dir })).code).toBe(0)
  })

  it('--key-file unseals the gate and writes unsealed.key for CLI commands; seal removes both', async () => {
    const r = await runCli(['vault', 'unseal', '--key-share', '-', '--key-file', '--json'], {
      cwd: dir,
      input: `${shares[1]}\n${shares[2]}\n`,
    })
    expect(r.code, r.stderr).toBe(0)
    const file = join(dir, '.aegis', 'unsealed.key')
    expect(JSON.parse(r.stdout)).toEqual({
      sealed: false,
      threshold: 2,
      progress: 0,
      target: 'gate',
      gates: 1,
      unsealedKey: file,
    })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect((await get('/slack/api/auth.test')).status).toBe(200)
    expect((await runCli(['vault', 'list'], { cwd: dir })).code).toBe(0)
    const sealed = await runCli(['vault', 'seal', '--json'], { cwd: dir })
    expect(JSON.parse(sealed.stdout)).toEqual({
      sealed: true,
      unsealedKeyRemoved: true,
      gatesSealed: 1,
      sharedSealed: false,
    })
    expect(existsSync(file)).toBe(false)
    expect((await get('/slack/api/auth.test')).status).toBe(503)
  })

  it('no share, master key or secret in the gate log, the ledger, or any file under the workspace', async () => {
    const needles = [masterKey, ...shares.map(shareData)]
    for (const needle of needles) expect(output).not.toContain(needle)
    expect(output).not.toContain(SECRET)
    for (const file of listFiles(dir)) {
      const bytes = readFileSync(join(dir, file))
      for (const needle of needles) expect(bytes.includes(Buffer.from(needle)), `${file}`).toBe(false)
    }
  })
  // Last in this file's gate session: once a user exists every later command needs a token.
  it('once RBAC is on, its admin socket takes only an admin (401 without a token, 403 for an operator)', async () => {
    const [socket] = adminSockets(join(dir, '.aegis', 'run'))
    expect(socket).toBeDefined()
    const admin = await runCli(['user', 'add', '--name', 'root', '--role', 'admin', '--json'], { cwd: dir })
    expect(admin.code, admin.stderr).toBe(0)
    const adminToken = (JSON.parse(admin.stdout) as { token: string }).token
    const op = await runCli(['user', 'add', '--name', 'op', '--role', 'operator', '--json'], {
      cwd: dir,
      env: { AEGIS_USER_TOKEN: adminToken },
    })
    expect(op.code, op.stderr).toBe(0)
    const opToken = (JSON.parse(op.stdout) as { token: string }).token
    const share = shares[0] as string

    const anonymous = await callAdmin(socket as string, { method: 'POST', path: '/unseal', body: { share } })
    expect(anonymous).toEqual({
      status: 401,
      body: { error: 'Authentication required (set AEGIS_USER_TOKEN)' },
    })
    const forged = await callAdmin(socket as string, { method: 'POST', path: '/seal', token: `${opToken}x` })
    expect(forged).toEqual({ status: 401, body: { error: INVALID_TOKEN_LINE } })
    const operator = await callAdmin(socket as string, {
      method: 'POST',
      path: '/unseal',
      body: { share },
      token: opToken,
    })
    expect(operator).toEqual({ status: 403, body: { error: 'operator may not vault:manage' } })
    expect((await get('/slack/api/auth.test')).status).toBe(503)

    // The users were added with the key split and not at hand: the vault could not record then
    // that RBAC is on.
    const rbacSince = () => {
      const vault = openVault({ dataDir: join(dir, '.aegis'), name: 'default', masterKey })
      try {
        return vault.rbacSince()
      } finally {
        vault.close()
      }
    }
    expect(rbacSince()).toBeNull()
    // The admin unseals through the CLI (which sends AEGIS_USER_TOKEN to the socket).
    const unseal = await runCli(['vault', 'unseal', '--key-share', '-', '--json'], {
      cwd: dir,
      env: { AEGIS_USER_TOKEN: adminToken },
      input: `${shares[1]}\n${shares[2]}\n`,
    })
    expect(unseal.code, unseal.stderr).toBe(0)
    // The gate holds the key now: it records it (the date the first user was added).
    expect(rbacSince()).toMatch(/^\d{4}-\d{2}-\d{2}T/)
    expect((await get('/slack/api/auth.test')).status).toBe(200)
    const sealed = await callAdmin(socket as string, { method: 'POST', path: '/seal', token: adminToken })
    expect(sealed.status).toBe(200)
    expect((await get('/slack/api/auth.test')).status).toBe(503)

    // Every unseal and seal of the running gate is a system entry, naming the user once RBAC is on:
    // the sealed refusals in between have their cause in the ledger.
    const system = await runCli(['ledger', 'show', '--system', '--json', '--limit', '100'], {
      cwd: dir,
      env: { AEGIS_USER_TOKEN: adminToken },
    })
    expect(system.code, system.stderr).toBe(0)
    const events = (JSON.parse(system.stdout) as { event: string; detail: string }[])
      .filter((e) => e.event.startsWith('vault_'))
      .reverse()
    expect(events.map((e) => e.event)).toEqual([
      'vault_unsealed',
      'vault_sealed',
      'vault_unsealed',
      'vault_sealed',
      'vault_unsealed',
      'vault_sealed',
      'vault_unsealed',
      'vault_sealed',
    ])
    expect(events.at(-2)?.detail).toBe('unsealed over the admin socket by root: serving')
    expect(events.at(-1)?.detail).toBe('sealed over the admin socket by root: requests are refused (sealed)')
    expect(events[0]?.detail).toBe('unsealed over the admin socket: serving')
    const starts = (JSON.parse(system.stdout) as { event: string; detail: string }[]).filter(
      (e) => e.event === 'gate_start',
    )
    expect(starts.at(-1)?.detail).toMatch(
      /^listening on http:\/\/127\.0\.0\.1:\d+ \(sealed: nothing is served until it is unsealed\)$/,
    )
  })
})

/** Starts `aegis gate` in `cwd`; resolves with its output once it listens, or once it exits. */
async function gateOutcome(
  cwd: string,
): Promise<{ listening: boolean; output: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'gate', '--port', '0'], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gate neither listened nor exited:\n${out}`)), 15_000)
    const onData = (d: string) => {
      out += d
      if (/listening on http/.test(out)) {
        clearTimeout(timer)
        // The warnings follow the listening line.
        setTimeout(() => resolve({ listening: true, output: out, child }), 300)
      }
    }
    child.stdout?.setEncoding('utf8').on('data', onData)
    child.stderr?.setEncoding('utf8').on('data', onData)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve({ listening: false, output: out, child })
    })
  })
}

describe('a data dir whose path is too long for a Unix socket', () => {
  it('an unsealed gate serves and warns that seal cannot reach it; a sealed one refuses to start', async () => {
    const root = tempDir()
    const cwd = join(root, 'w'.repeat(80))
    mkdirSync(cwd)
    try {
      await keyedWorkspace(cwd)
      const unsealed = await gateOutcome(cwd)
      unsealed.child.kill('SIGTERM')
      expect(unsealed.listening, unsealed.output).toBe(true)
      // oclif wraps warnings at the terminal width, each line behind " ›   ".
      const warned = unsealed.output.replace(/\s*\n ›\s+/g, ' ')
      expect(warned).toMatch(
        /No admin socket \(The admin socket path .* bytes, more than the 103 a Unix socket allows/,
      )
      expect(warned).toContain('aegis vault seal and unseal cannot reach this gate')

      await split(cwd, 2, 2)
      const sealed = await gateOutcome(cwd)
      expect(sealed.listening).toBe(false)
      expect(sealed.output).toMatch(
        /^Error: Cannot open the admin socket in .*, so this sealed gate could never be unsealed/m,
      )
      expect(sealed.child.exitCode).toBe(1)
    } finally {
      removeDir(root)
    }
  })
})
