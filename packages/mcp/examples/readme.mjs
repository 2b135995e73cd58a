// An MCP server on the Aegis pipeline, over in-memory credentials, called through the MCP SDK.
import assert from 'node:assert/strict'
import { createMcpServer } from '@aegis/mcp'
import { createPipeline } from '@aegis/proxy'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'

const credential = {
  id: 'c1',
  name: 'slack-bot',
  service: 'slack',
  domains: ['slack.com'],
  scopes: ['read'],
  secret: 'xoxb-0123456789-abcdefghij', // in real use: a vault (`@aegis/vault`) or your own store
}
const audit = [] // in real use: a ledger (`@aegis/ledger`)
const pipeline = createPipeline({
  credentials: { loadAll: () => [credential], changeToken: () => 'v1' },
  audit: { append: async (entry) => audit.push(entry), complete: () => {}, system: async () => 0 },
})
const server = createMcpServer({ engine: pipeline.engine, agentToken: null })

// A host connects over stdio or HTTP (`startMcp`); here, the SDK's in-memory transport.
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
await server.connect(serverSide)
const client = new Client({ name: 'example-agent', version: '1.0.0' })
await client.connect(clientSide)

const listed = await client.callTool({ name: 'aegis_list_services' })
assert.deepEqual(
  listed.structuredContent.services.map((s) => s.service),
  ['slack'],
)
assert.ok(!JSON.stringify(listed).includes(credential.secret)) // never a secret

// The same checks as the HTTP gate: a POST with a read-only credential is refused and recorded.
const refused = await client.callTool({
  name: 'aegis_proxy_request',
  arguments: { service: 'slack', method: 'POST', path: '/api/chat.postMessage', body: '{}' },
})
assert.equal(refused.isError, true)
assert.equal(JSON.parse(refused.content[0].text).code, 'scope_denied')
assert.equal(audit.at(-1).code, 'scope_denied')

await client.close()
await pipeline.close()
