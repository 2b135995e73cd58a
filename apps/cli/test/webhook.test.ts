/**
 * `aegis webhook …` through the built CLI, and the gate's relay: a real local receiver verifies
 * both signatures (standardwebhooks on the test side), scripted answers, the flood case, and a
 * gate killed with SIGKILL mid-delivery.
 */
import type { ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startGateProcess } from './helpers/gate-process.js'
import { BIN, initProject, type Project, parseJson, removeDir, runCli, snapshot } from './helpers/run-cli.js'

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

/** A local receiver answering from a script (then 200); `hang` never answers. */
async function receiver(script: { status: number; hang?: boolean }[] = []) {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() })
      const next = script.shift() ?? { status: 200 }
      if (next.hang) return
      res.writeHead(next.status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Both signatures of a delivery, checked as a receiver would. */
function verify(secret: string, got: Received | undefined): { type: string; data: { count: number } } {
  const headers = got?.headers as Record<string, string>
  const payload = new Webhook(secret).verify(got?.body ?? '', headers) as {
    type: string
    data: { count: number }
  }
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  expect(headers['x-aegis-signature']).toBe(
    `sha256=${createHmac('sha256', key)
      .update(got?.body ?? '')
      .digest('hex')}`,
  )
  expect(headers['x-aegis-event']).toBe(payload.type)
  return payload
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

let project: Project
const closers: (() => Promise<void>)[] = []
const running: ChildProcess[] = []

/** Lets webhooks (and the gate) reach 127.0.0.1: the upstream allow list covers webhooks too. */
function allowLoopback(p: Project): void {
  const file = join(p.dir, 'aegis.config.yaml')
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace('  # upstream:\n', '  upstream:\n    allow_private: [127.0.0.1]\n'),
  )
}

async function add(p: Project, url: string, events = 'agent_auth_failure,blocked_request') {
  const result = await p.run(['webhook', 'add', '--url', url, '--events', events, '--json'])
  expect(result.code, result.stderr).toBe(0)
  return parseJson<{ id: string; secret: string; events: string[] }>(result)
}

beforeAll(async () => {
  project = await initProject()
  allowLoopback(project)
})
afterEach(async () => {
  for (const child of running.splice(0)) child.kill('SIGKILL')
  for (const close of closers.splice(0)) await close()
})
afterAll(() => removeDir(project.dir))

describe('webhook add / list / remove', () => {
  it('generates a whsec_ secret, prints it once, stores it encrypted; list never shows it', async () => {
    const rx = await receiver()
    closers.push(rx.close)
    const human = await project.run(['webhook', 'add', '--url', rx.url, '--events', 'blocked_request'])
    expect(human.code, human.stderr).toBe(0)
    const secret = /Signing secret \(shown once[^)]*\): (whsec_\S+)/.exec(human.stdout)?.[1] ?? ''
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const list = await project.run(['webhook', 'list', '--json'])
    expect(list.code).toBe(0)
    expect(list.stdout).not.toContain(secret)
    expect(parseJson<{ url: string; events: string[] }[]>(list).some((e) => e.url === rx.url)).toBe(true)
    const ledger = readFileSync(join(project.dataDir, 'ledger.db'))
    expect(ledger.includes(Buffer.from(secret))).toBe(false)
    expect(ledger.includes(Buffer.from(secret.slice(6)))).toBe(false)
    const table = await project.run(['webhook', 'list'])
    expect(table.stdout).toMatch(/^ID\s+URL\s+EVENTS\s+STATUS/)
    expect(table.stdout).not.toContain(secret)
  })

  it.each([
    [
      'http:// to a non-loopback host',
      ['--url', 'http://hooks.example.com/x'],
      'Invalid --url: http:// is allowed only for a loopback host',
    ],
    ['a private address', ['--url', 'https://10.0.0.7/x'], 'Invalid --url: 10.0.0.7 is a private address'],
    ['the metadata address', ['--url', 'https://169.254.169.254/x'], 'cloud-metadata address'],
    [
      'credentials in the URL',
      ['--url', 'https://u:p@hooks.example.com/x'],
      'Invalid --url: a user or password',
    ],
    ['a relative URL', ['--url', '/hook'], 'Invalid --url: expected an absolute URL'],
    [
      'an unknown event',
      ['--url', 'https://hooks.example.com/x', '--events', 'blocked_request,nope'],
      'Invalid --events "nope"',
    ],
    ['no event', ['--url', 'https://hooks.example.com/x', '--events', ' , '], 'Invalid --events (empty)'],
    [
      'a short secret on the command line, without echoing it or warning',
      ['--url', 'https://hooks.example.com/x', '--secret', 'short-argv'],
      'Invalid --secret: a signing secret must be at least 16 bytes long',
    ],
  ])('refuses %s with a one-line error and changes nothing', async (_name, args, message) => {
    const before = snapshot(project.dir)
    const withEvents = args.includes('--events') ? args : [...args, '--events', 'blocked_request']
    const result = await project.run(['webhook', 'add', ...withEvents])
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain(message)
    expect(result.stderr).not.toContain('short-argv')
    expect(result.stdout).toBe('')
    expect(snapshot(project.dir)).toEqual(before)
  })

  it('a loopback URL is refused unless gate.upstream.allow_private lists it', async () => {
    const bare = await initProject()
    try {
      const result = await bare.run([
        'webhook',
        'add',
        '--url',
        'http://127.0.0.1:9/x',
        '--events',
        'blocked_request',
      ])
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(
        '127.0.0.1 is a loopback address; webhooks may target it only when gate.upstream.allow_private lists it',
      )
    } finally {
      removeDir(bare.dir)
    }
  })

  it('--secret - reads the secret from stdin; a short one is refused without being echoed', async () => {
    const short = await project.run(
      [
        'webhook',
        'add',
        '--url',
        'https://hooks.example.com/x',
        '--events',
        'blocked_request',
        '--secret',
        '-',
      ],
      { input: 'tiny-secret\n' },
    )
    expect(short.code).toBe(1)
    expect(short.stderr).toContain('Invalid --secret: a signing secret must be at least 16 bytes long')
    expect(short.stderr).not.toContain('tiny-secret')
    const ok = await project.run(
      [
        'webhook',
        'add',
        '--url',
        'https://hooks.example.com/y',
        '--events',
        'blocked_request',
        '--secret',
        '-',
        '--json',
      ],
      { input: 'my-own-signing-secret-123\n' },
    )
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).not.toContain('my-own-signing-secret-123')
    expect(parseJson<{ secret?: string }>(ok).secret).toBeUndefined()
  })

  it('--secret <value> is taken as vault add takes it, with the same argv warning; deliveries use it', async () => {
    const rx = await receiver()
    closers.push(rx.close)
    const secret = 'your-hmac-signing-secret'
    const added = await project.run([
      'webhook',
      'add',
      '--url',
      rx.url,
      '--events',
      'agent_auth_failure',
      '--secret',
      secret,
      '--json',
    ])
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).not.toContain(secret)
    expect(added.stderr).not.toContain(secret)
    expect(added.stderr).toContain(
      'Warning: --secret <value> put the secret in argv, visible to other processes (ps, /proc) and kept in shell history',
    )
    const { id } = parseJson<{ id: string; secret?: string }>(added)
    expect(parseJson<{ secret?: string }>(added).secret).toBeUndefined()
    const sent = await project.run(['webhook', 'test', '--id', id])
    expect(sent.code, sent.stderr).toBe(0)
    await until(() => rx.received.length === 1)
    const got = rx.received[0]
    new Webhook(Buffer.from(secret).toString('base64')).verify(
      got?.body ?? '',
      got?.headers as Record<string, string>,
    )
    expect(got?.headers['x-aegis-signature']).toBe(
      `sha256=${createHmac('sha256', secret)
        .update(got?.body ?? '')
        .digest('hex')}`,
    )
  })

  it('remove: an unknown id names the flag; a known one is gone from the list', async () => {
    const missing = await project.run(['webhook', 'remove', '--id', 'ep_nope'])
    expect(missing.code).toBe(1)
    expect(missing.stderr.trim()).toBe('Error: No webhook with --id "ep_nope" (aegis webhook list)')
    const { id } = await add(project, 'https://hooks.example.com/remove-me')
    expect((await project.run(['webhook', 'remove', '--id', id])).code).toBe(0)
    const list = parseJson<{ id: string }[]>(await project.run(['webhook', 'list', '--json']))
    expect(list.map((e) => e.id)).not.toContain(id)
  })
})

describe('webhook test', () => {
  it('sends one signed test event and prints the status; a 500 exits 1', async () => {
    const rx = await receiver([{ status: 200 }, { status: 500 }])
    closers.push(rx.close)
    const { id, secret } = await add(project, rx.url)
    const ok = await project.run(['webhook', 'test', '--id', id])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^Delivered test event msg_\w+ to http:\/\/127\.0\.0\.1:\d+\/hook: HTTP 200\n$/)
    const payload = verify(secret, rx.received[0]) as unknown as { data: { test: boolean } }
    expect(payload.data.test).toBe(true)
    const failed = await project.run(['webhook', 'test', '--id', id])
    expect(failed.code).toBe(1)
    expect(failed.stderr.trim()).toBe(`Error: Webhook ${id} did not accept the test event: HTTP 500`)
    const json = await project.run(['webhook', 'test', '--id', 'ep_missing', '--json'])
    expect(json.code).toBe(1)
    expect(json.stderr).toContain('No webhook with --id "ep_missing"')
  })
})

describe('webhook deliveries / redeliver', () => {
  it('redeliver names the flag for a bad or unknown id', async () => {
    const bad = await project.run(['webhook', 'redeliver', '--delivery', 'abc'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('Invalid --delivery "abc"')
    const unknown = await project.run(['webhook', 'redeliver', '--delivery', '999999'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('No finished delivery with --delivery 999999')
    const status = await project.run(['webhook', 'deliveries', '--status', 'lost'])
    expect(status.code).toBe(2)
  })
})

/** Starts `aegis gate` and waits for its "listening on" line. */
/** The project's starter config with one `webhooks:` entry for `url` (agent_auth_failure), by its secret. */
function configWebhook(file: string, url: string): (secret: string) => string {
  const starter = readFileSync(file, 'utf8')
  return (secret) =>
    starter.replace(
      /^webhooks: \[\]$/m,
      `webhooks:\n  - url: ${url}\n    events: [agent_auth_failure]\n    secret: ${secret}`,
    )
}

/** Splits the project's key into shares (2 needed): a gate started without the key now is sealed. */
async function splitKey(p: Project, shares: number): Promise<string[]> {
  const split = await p.run(['vault', 'split', '--shares', String(shares), '--threshold', '2', '--json'])
  expect(split.code, split.stderr).toBe(0)
  return parseJson<{ shares: string[] }>(split).shares
}

/** Unseals the running gate over its admin socket with two shares (no AEGIS_MASTER_KEY). */
async function unseal(p: Project, shares: string[]): Promise<void> {
  const unsealed = await runCli(['vault', 'unseal', '--key-share', '-'], {
    cwd: p.dir,
    input: `${shares[0]}\n${shares[1]}\n`,
  })
  expect(unsealed.code, unsealed.stderr).toBe(0)
}

/** A GitHub credential that expires in three days. */
async function addExpiring(p: Project): Promise<void> {
  const args = ['vault', 'add', '--name', 'gh', '--service', 'github', '--domains', 'api.github.com']
  const added = await p.run([...args, '--ttl', '3', '--secret', '-'], {
    input: 'ghp_expiring_secret_value_0123456789\n',
  })
  expect(added.code, added.stderr).toBe(0)
}

async function startGate(p: Project, args: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const gate = await startGateProcess(p.dir, args, p.env)
  running.push(gate.child)
  return gate
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the gate delivers', () => {
  it('an endpoint a 410 disabled: webhook list says so and why; webhook enable brings it back with its secret', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver([{ status: 410 }])
      closers.push(rx.close)
      const { id, secret } = await add(p, rx.url, 'agent_auth_failure')
      const { port } = await startGate(p, ['--require-agent-auth'])
      expect(await get(port, '/github/user')).toBe(401)
      const listed = async () =>
        parseJson<{ id: string; status: string; disabledReason: string | null }[]>(
          await p.run(['webhook', 'list', '--json']),
        )[0]
      await until(() => rx.received.length === 1)
      let endpoint = await listed()
      for (let i = 0; endpoint?.status !== 'disabled' && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50))
        endpoint = await listed()
      }
      expect(endpoint).toMatchObject({ id, status: 'disabled', disabledReason: 'endpoint answered 410 Gone' })
      expect((await p.run(['webhook', 'list'])).stdout).toContain('disabled (endpoint answered 410 Gone)')

      const unknown = await p.run(['webhook', 'enable', '--id', 'ep_00000000000000ff'])
      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toContain('No webhook with --id "ep_00000000000000ff"')
      const enabled = await p.run(['webhook', 'enable', '--id', id, '--json'])
      expect(enabled.code, enabled.stderr).toBe(0)
      expect(parseJson(enabled)).toEqual({ id, status: 'active', enabled: true })
      expect((await p.run(['webhook', 'enable', '--id', id])).stdout).toContain(
        `Webhook ${id} is active already`,
      )
      expect(await listed()).toMatchObject({ id, status: 'active', disabledReason: null })

      // The running gate delivers the next event to it, signed with the secret it always had.
      expect(await get(port, '/slack/api/auth.test')).toBe(401)
      await until(() => rx.received.length === 2)
      expect(verify(secret, rx.received[1]).type).toBe('agent_auth_failure')
    } finally {
      removeDir(p.dir)
    }
  })

  it('100 unauthenticated requests in a second are at most 2 deliveries whose counts add up to 100', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver()
      closers.push(rx.close)
      const { secret } = await add(p, rx.url, 'agent_auth_failure')
      const { port } = await startGate(p, ['--require-agent-auth'])
      const statuses = await Promise.all(Array.from({ length: 100 }, () => get(port, '/github/user')))
      expect(new Set(statuses)).toEqual(new Set([401]))
      await until(
        () =>
          rx.received.reduce(
            (n, r) => n + (JSON.parse(r.body) as { data: { count: number } }).data.count,
            0,
          ) === 100,
        30_000,
      )
      expect(rx.received.length).toBeLessThanOrEqual(2)
      for (const got of rx.received) expect(verify(secret, got).type).toBe('agent_auth_failure')
      const deliveries = parseJson<{ status: string }[]>(await p.run(['webhook', 'deliveries', '--json']))
      expect(deliveries.every((d) => d.status === 'succeeded')).toBe(true)
    } finally {
      removeDir(p.dir)
    }
  })

  it('a gate killed with SIGKILL mid-delivery delivers again after restart, with the same webhook-id', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver([{ status: 200, hang: true }])
      closers.push(rx.close)
      const { secret } = await add(p, rx.url, 'agent_auth_failure')
      const first = await startGate(p, ['--require-agent-auth'])
      expect(await get(first.port, '/github/user')).toBe(401)
      await until(() => rx.received.length === 1)
      first.child.kill('SIGKILL')
      await new Promise((r) => first.child.once('exit', r))
      const inFlight = parseJson<{ status: string }[]>(await p.run(['webhook', 'deliveries', '--json']))
      expect(inFlight.map((d) => d.status)).toEqual(['delivering'])
      await startGate(p, ['--require-agent-auth'])
      // The dead gate's lease (20 s) runs out, then the new relay takes the delivery over.
      await until(() => rx.received.length === 2, 40_000)
      expect(rx.received[1]?.headers['webhook-id']).toBe(rx.received[0]?.headers['webhook-id'])
      expect(rx.received[1]?.body).toBe(rx.received[0]?.body)
      verify(secret, rx.received[1])
      const after = parseJson<{ status: string; attempt: number }[]>(
        await p.run(['webhook', 'deliveries', '--json']),
      )
      expect(after[0]).toMatchObject({ status: 'succeeded', attempt: 1 })
    } finally {
      removeDir(p.dir)
    }
  }, 90_000)

  it('a sealed gate spends no attempt on its deliveries and sends them as soon as it is unsealed', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver()
      closers.push(rx.close)
      const { secret } = await add(p, rx.url, 'blocked_request')
      const shares = await splitKey(p, 3)
      // No key at hand: the gate starts sealed, and refuses (and records, and queues) a request.
      const gate = await startGateProcess(p.dir, [], {})
      running.push(gate.child)
      expect(await get(gate.port, '/github/user')).toBe(503)
      // Long enough for the relay to have tried (and, before, spent) the first attempt.
      await new Promise((r) => setTimeout(r, 1_500))
      const held = parseJson<{ status: string; attempt: number }[]>(
        await p.run(['webhook', 'deliveries', '--json']),
      )
      expect(held).toMatchObject([{ status: 'pending', attempt: 0 }])
      // Without AEGIS_MASTER_KEY: the shares go to the gate over its admin socket.
      await unseal(p, shares)
      // The relay polls every second: delivered then, not at the next step of the retry schedule.
      await until(() => rx.received.length === 1, 2_500)
      expect(verify(secret, rx.received[0])).toMatchObject({ type: 'blocked_request' })
      const after = parseJson<{ status: string; attempt: number }[]>(
        await p.run(['webhook', 'deliveries', '--json']),
      )
      expect(after).toMatchObject([{ status: 'succeeded', attempt: 1 }])
    } finally {
      removeDir(p.dir)
    }
  }, 60_000)

  it('credential expiry: a gate started sealed checks at its unseal, as a gate started with the key does at start', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver()
      closers.push(rx.close)
      const { secret } = await add(p, rx.url, 'credential_expiry')
      await addExpiring(p)
      const shares = await splitKey(p, 2)
      const gate = await startGateProcess(p.dir, [], {})
      running.push(gate.child)
      await unseal(p, shares)
      // Not an hour later, at the next scheduled check.
      await until(() => rx.received.length === 1, 5_000)
      expect(verify(secret, rx.received[0])).toMatchObject({ type: 'credential_expiry' })
    } finally {
      removeDir(p.dir)
    }
  }, 60_000)

  it('credential expiry: the gate notices at start, once per threshold; check-expiry lists it', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver()
      closers.push(rx.close)
      const { secret } = await add(p, rx.url, 'credential_expiry')
      await addExpiring(p)
      const gate = await startGate(p)
      await until(() => rx.received.length === 1)
      const payload = verify(secret, rx.received[0]) as unknown as {
        data: { service: string; thresholdDays: number }
      }
      expect(payload.data).toMatchObject({ service: 'gh', thresholdDays: 7 })
      gate.child.kill('SIGTERM')
      await new Promise((r) => gate.child.once('exit', r))
      await startGate(p)
      await new Promise((r) => setTimeout(r, 1500))
      expect(rx.received).toHaveLength(1)
      const check = await p.run(['webhook', 'check-expiry', '--json'])
      expect(check.code, check.stderr).toBe(0)
      expect(parseJson<{ name: string; daysLeft: number; queued: boolean }[]>(check)).toEqual([
        expect.objectContaining({ name: 'gh', daysLeft: 2, queued: false }),
      ])
      const none = await p.run(['webhook', 'check-expiry', '--days', '1'])
      expect(none.stdout.trim()).toBe('No credential expires within 1 day')
    } finally {
      removeDir(p.dir)
    }
  })

  it('webhooks: in the config file of a gate started sealed are registered at its unseal (a weak secret stops it at start)', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver()
      closers.push(rx.close)
      const file = join(p.dir, 'aegis.config.yaml')
      const secret = 'config-file-signing-secret-0123'
      const withHook = configWebhook(file, rx.url)
      const shares = await splitKey(p, 2)
      // No key at hand: sealed. The config is still checked at start, without the key.
      writeFileSync(file, withHook('too-short'))
      const refused = await runCli(['gate', '--port', '0'], { cwd: p.dir })
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain('webhooks[0].secret: a signing secret must be at least 16 bytes long')
      writeFileSync(file, withHook(secret))
      const gate = await startGateProcess(p.dir, ['--require-agent-auth'], {})
      running.push(gate.child)
      expect(gate.output()).toContain('webhooks from the config file are registered once it is unsealed')
      await unseal(p, shares)
      expect(await get(gate.port, '/github/user')).toBe(401)
      await until(() => rx.received.length === 1, 5_000)
      const got = rx.received[0]
      expect(() =>
        new Webhook(secret, { format: 'raw' }).verify(
          got?.body ?? '',
          got?.headers as Record<string, string>,
        ),
      ).not.toThrow()
      const list = parseJson<{ status: string; source: string }[]>(await p.run(['webhook', 'list', '--json']))
      expect(list).toEqual([expect.objectContaining({ status: 'active', source: 'config' })])
    } finally {
      removeDir(p.dir)
    }
  }, 60_000)

  it('webhooks: in the config file are endpoints of the gate; a weak secret there stops it with the key path', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver()
      closers.push(rx.close)
      const file = join(p.dir, 'aegis.config.yaml')
      const secret = 'config-file-signing-secret-0123'
      const withHook = configWebhook(file, rx.url)
      writeFileSync(file, withHook('too-short'))
      const refused = await p.run(['gate', '--port', '0'])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain('webhooks[0].secret: a signing secret must be at least 16 bytes long')
      expect(refused.stderr).not.toContain('too-short')
      writeFileSync(file, withHook(secret))
      const { port } = await startGate(p, ['--require-agent-auth'])
      expect(await get(port, '/github/user')).toBe(401)
      await until(() => rx.received.length === 1)
      const got = rx.received[0]
      expect(() =>
        new Webhook(secret, { format: 'raw' }).verify(
          got?.body ?? '',
          got?.headers as Record<string, string>,
        ),
      ).not.toThrow()
      const list = parseJson<{ id: string; url: string }[]>(await p.run(['webhook', 'list', '--json']))
      expect(list).toEqual([
        expect.objectContaining({
          url: rx.url,
          id: expect.stringMatching(/^cfg_[0-9a-f]{16}$/),
          status: 'active',
          source: 'config',
        }),
      ])
      expect(JSON.stringify(list)).not.toContain(secret)
    } finally {
      removeDir(p.dir)
    }
  })

  it('webhook list shows config-file webhooks before any gate start; webhook test and check-expiry reach them', async () => {
    const p = await initProject()
    try {
      allowLoopback(p)
      const rx = await receiver()
      closers.push(rx.close)
      const file = join(p.dir, 'aegis.config.yaml')
      const secret = 'config-file-signing-secret-4567'
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(
          /^webhooks: \[\]$/m,
          `webhooks:\n  - url: ${rx.url}\n    events: [credential_expiry, blocked_request]\n    secret: ${secret}`,
        ),
      )
      const added = await add(p, `${rx.url}/added`, 'agent_auth_failure')
      const list = await p.run(['webhook', 'list', '--json'])
      expect(list.code, list.stderr).toBe(0)
      expect(list.stdout).not.toContain(secret)
      expect(parseJson<unknown[]>(list)).toEqual([
        expect.objectContaining({ id: added.id, url: `${rx.url}/added`, status: 'active', source: 'cli' }),
        {
          id: expect.stringMatching(/^cfg_[0-9a-f]{16}$/),
          url: rx.url,
          events: ['credential_expiry', 'blocked_request'],
          status: 'not_registered',
          disabledReason: null,
          createdAt: null,
          source: 'config',
        },
      ])
      const table = await p.run(['webhook', 'list'])
      expect(table.stdout).toMatch(/^ID\s+URL\s+EVENTS\s+STATUS\s+SOURCE/)
      expect(table.stdout).toMatch(
        /cfg_[0-9a-f]{16}\s+\S+\s+credential_expiry,blocked_request\s+not registered \(when a gate starts with the key, or is unsealed\)\s+config/,
      )
      expect(table.stdout).not.toContain(secret)

      // webhook test reaches it with the file's secret, before any gate start too.
      const id =
        parseJson<{ id: string; source: string }[]>(list).find((e) => e.source === 'config')?.id ?? ''
      const tested = await p.run(['webhook', 'test', '--id', id, '--json'])
      expect(tested.code, tested.stderr).toBe(0)
      expect(parseJson<{ delivered: boolean }>(tested)).toMatchObject({ id, delivered: true, status: 200 })
      const got = rx.received.at(-1)
      const payload = new Webhook(secret, { format: 'raw' }).verify(
        got?.body ?? '',
        got?.headers as Record<string, string>,
      ) as { type: string }
      expect(payload.type).toBe('credential_expiry')

      // check-expiry registers the file's webhooks before it queues a notice (a notice is raised
      // once: queued for the CLI webhook only, the config one would never get it).
      const stored = await p.run(
        [
          'vault',
          'add',
          '--name',
          'gh',
          '--service',
          'github',
          '--domains',
          'api.github.com',
          '--ttl',
          '3',
          '--secret',
          '-',
        ],
        { input: 'ghp_expiring_secret_value_0123456789\n' },
      )
      expect(stored.code, stored.stderr).toBe(0)
      const check = await p.run(['webhook', 'check-expiry', '--json'])
      expect(check.code, check.stderr).toBe(0)
      expect(parseJson<unknown[]>(check)).toEqual([expect.objectContaining({ name: 'gh', queued: true })])
      const after = parseJson<{ source: string; status: string }[]>(
        await p.run(['webhook', 'list', '--json']),
      )
      expect(after.find((e) => e.source === 'config')?.status).toBe('active')
      // The gate delivers the queued notice to the config webhook, signed with the file's secret.
      const sent = rx.received.length
      await startGate(p)
      await until(() => rx.received.length > sent)
      const notice = rx.received[sent]
      expect(notice?.headers['x-aegis-event']).toBe('credential_expiry')
      expect(() =>
        new Webhook(secret, { format: 'raw' }).verify(
          notice?.body ?? '',
          notice?.headers as Record<string, string>,
        ),
      ).not.toThrow()
    } finally {
      removeDir(p.dir)
    }
  })

  it('a refusal on the MCP channel is queued in the same outbox (the gate delivers it)', async () => {
    const p = await initProject()
    try {
      const { id } = await add(p, 'https://hooks.example.com/mcp', 'blocked_request')
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp', 'serve'],
        cwd: p.dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: p.dir, ...p.env },
        stderr: 'pipe',
      })
      const client = new Client({ name: 'webhook-test-host', version: '1.0.0' })
      await client.connect(transport)
      const result = await client.callTool({
        name: 'aegis_proxy_request',
        arguments: { service: 'ghost', path: '/x' },
      })
      expect(result.isError).toBe(true)
      await client.close()
      const deliveries = parseJson<{ endpointId: string; type: string; status: string }[]>(
        await p.run(['webhook', 'deliveries', '--json']),
      )
      expect(deliveries).toEqual([
        expect.objectContaining({ endpointId: id, type: 'blocked_request', status: 'pending' }),
      ])
    } finally {
      removeDir(p.dir)
    }
  })
})
