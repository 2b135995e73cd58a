// aegis-mcp-server with storage.postgres.url (AEGIS_PG_URL): credentials, agents and users come from
// the shared database, a change made elsewhere reaches the running server, tool calls land in the
// shared ledger. Skipped, visibly, when AEGIS_PG_URL is unset.
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ACCESS_PG_MIGRATIONS, BOOTSTRAP } from '@aegis/access'
import { openPgUserStore } from '@aegis/access/pg'
import { LEDGER_PG_MIGRATIONS, openPgLedger } from '@aegis/ledger'
import { migrate, openPool, writeSealState } from '@aegis/pg'
import { type ScratchDatabase, scratchDatabase } from '@aegis/pg/testing'
import { VAULT_PG_MIGRATIONS, type VaultStore } from '@aegis/vault'
import { createPgVault } from '@aegis/vault/pg'
import { WEBHOOKS_PG_MIGRATIONS } from '@aegis/webhooks'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { pgTestUrl } from '../../../test-support/pg-url.js'

const BIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
if (!existsSync(BIN))
  throw new Error('apps/mcp-server is not built: run turbo build --filter=@aegis/mcp-server... first')

const adminUrl = pgTestUrl('apps/mcp-server postgres.test.ts')
const MASTER_KEY = 'mcp-server-pg-test-key-0a1b2c3d4e5f60718293a4b5c6d7e8f9'
const SECRET = 'xoxb-pg-mcp-secret-7d21'
const LATER = 'ghp_pg_mcp_added_while_running'

describe.skipIf(adminUrl === undefined)('aegis-mcp-server on PostgreSQL', () => {
  let db: ScratchDatabase
  let pool: ReturnType<typeof openPool>
  let store: VaultStore
  let dir: string
  let upstream: TestUpstream
  let agentToken: string
  let configFile: string

  beforeAll(async () => {
    db = await scratchDatabase(adminUrl as string)
    pool = openPool({ url: db.url })
    await migrate(pool, [
      VAULT_PG_MIGRATIONS,
      LEDGER_PG_MIGRATIONS,
      ACCESS_PG_MIGRATIONS,
      WEBHOOKS_PG_MIGRATIONS,
    ])
    store = await createPgVault({ pool, name: 'default', masterKey: MASTER_KEY })
    await store.add({ name: 'slack-bot', service: 'slack', secret: SECRET, domains: ['api.example.test'] })
    agentToken = (await store.addAgent({ name: 'desktop' })).token
    await store.grant('desktop', 'slack-bot')
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'aegis-mcp-server-pg-')))
    upstream = await startUpstream()
    writeFileSync(join(dir, 'ca.pem'), testPki().caCert)
    configFile = join(dir, 'aegis.config.yaml')
    writeFileSync(
      configFile,
      [
        'vault:',
        '  data_dir: ./data',
        'gate:',
        '  require_agent_auth: true',
        '  upstream:',
        '    ca_file: ./ca.pem',
        '    resolve:',
        `      - api.example.test:443:127.0.0.1:${upstream.port}`,
        `      - other.test:443:127.0.0.1:${upstream.port}`,
        '',
      ].join('\n'),
    )
  })
  afterAll(async () => {
    await store?.close()
    await pool?.end()
    await db?.drop()
    await upstream?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function connect(env: Record<string, string>) {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      cwd: tmpdir(),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        AEGIS_CONFIG: configFile,
        AEGIS_PG_URL: db.url,
        AEGIS_MASTER_KEY: MASTER_KEY,
        ...env,
      },
      stderr: 'pipe',
    })
    let stderr = ''
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8')
    })
    const client = new Client({ name: 'pg-test-host', version: '1.0.0' })
    await client.connect(transport)
    return { client, stderr: () => stderr }
  }

  const services = async (client: Client) =>
    (
      (await client.callTool({ name: 'aegis_list_services', arguments: {} })) as CallToolResult & {
        structuredContent: { services: { name: string }[] }
      }
    ).structuredContent.services.map((s) => s.name)

  it('serves the database vault, follows changes made elsewhere, and writes the shared ledger', async () => {
    const { client, stderr } = await connect({ AEGIS_AGENT_TOKEN: agentToken })
    const result = (await client.callTool({
      name: 'aegis_proxy_request',
      arguments: { service: 'slack', path: '/api/auth.test' },
    })) as CallToolResult
    expect(result.isError).toBeFalsy()
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`)
    expect(await services(client)).toEqual(['slack-bot'])

    // Another process adds and grants a credential: the running server has it within a second or two.
    await store.add({ name: 'other-bot', service: 'other', secret: LATER, domains: ['other.test'] })
    await store.grant('desktop', 'other-bot')
    const deadline = Date.now() + 3000
    while ((await services(client)).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    expect((await services(client)).sort()).toEqual(['other-bot', 'slack-bot'])
    await client.close()
    for (const secret of [SECRET, LATER, MASTER_KEY, agentToken]) expect(stderr()).not.toContain(secret)

    const ledger = openPgLedger({ pool })
    try {
      const entries = await ledger.query({ limit: 50 })
      expect(entries.find((e) => e.path === '/api/auth.test')).toMatchObject({
        channel: 'mcp',
        agent: 'desktop',
        decision: 'allowed',
        status: 200,
      })
      const events = (await ledger.query({ system: true, limit: 10 })).map((e) => e.event)
      expect(events.slice(0, 2)).toEqual(['mcp_stop', 'mcp_start'])
    } finally {
      await ledger.close()
    }
    // Nothing was written to the data directory's SQLite files.
    expect(existsSync(join(dir, 'data', 'ledger.db'))).toBe(false)
  })

  it('follows aegis vault seal: sealed while it runs, every call is refused; sealed at start, it does not start', async () => {
    const { client, stderr } = await connect({ AEGIS_AGENT_TOKEN: agentToken })
    const call = () =>
      client.callTool({
        name: 'aegis_proxy_request',
        arguments: { service: 'slack', path: '/api/auth.test' },
      }) as Promise<CallToolResult & { structuredContent?: { code?: string } }>
    expect((await call()).isError).toBeFalsy()
    const forwarded = upstream.received.length
    await writeSealState(pool, true, 'root')
    const deadline = Date.now() + 1500
    let result = await call()
    while (!result.isError && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      result = await call()
    }
    expect(result.isError).toBe(true)
    expect(JSON.stringify(result)).toContain('sealed')
    expect(stderr()).toContain('the vault was sealed for every gate on this database')
    // Refused while sealed: nothing more reached the upstream.
    const refusedAt = upstream.received.length
    expect((await call()).isError).toBe(true)
    expect(upstream.received.length).toBe(refusedAt)
    expect(refusedAt).toBeGreaterThanOrEqual(forwarded)
    await client.close()

    await expect(connect({ AEGIS_AGENT_TOKEN: agentToken })).rejects.toThrow()
    await writeSealState(pool, false, 'root')
    const again = await connect({ AEGIS_AGENT_TOKEN: agentToken })
    expect(await services(again.client)).toContain('slack-bot')
    await again.client.close()
  })

  it('stops, saying why, within 2 s of a newer aegis migrating the database under it', async () => {
    const { client, stderr } = await connect({ AEGIS_AGENT_TOKEN: agentToken })
    let closed = false
    client.onclose = () => {
      closed = true
    }
    expect(await services(client)).toContain('slack-bot')
    await pool.query('INSERT INTO aegis.__migrations_core (hash, created_at) VALUES ($1, $2)', [
      'newer',
      4_102_444_800_000,
    ])
    try {
      const deadline = Date.now() + 2500
      while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(closed).toBe(true)
      expect(stderr()).toContain(
        'A newer aegis migrated the store under this MCP server (the PostgreSQL schema of "core" is newer than this aegis',
      )
    } finally {
      await pool.query(`DELETE FROM aegis.__migrations_core WHERE hash = 'newer'`)
      await client.close().catch(() => {})
    }
  })

  it('once the database has users, starting needs a user token allowed gate:start', async () => {
    const users = openPgUserStore(pool)
    try {
      const admin = await users.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
      await expect(connect({ AEGIS_AGENT_TOKEN: agentToken })).rejects.toThrow()
      const { client } = await connect({ AEGIS_AGENT_TOKEN: agentToken, AEGIS_USER_TOKEN: admin.token })
      expect(await services(client)).toContain('slack-bot')
      await client.close()
    } finally {
      await users.close()
    }
  })
})
