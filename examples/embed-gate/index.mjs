// Embeds the gate: in-memory credentials, an in-memory audit sink, a local HTTPS upstream.
import { createGate } from '@aegis/proxy'
import { startLocalUpstream } from './local-upstream.mjs'

const upstream = await startLocalUpstream() // https://api.example.test, served on 127.0.0.1
const secret = 'sk-example-0123456789abcdef' // in real use: from your own secret store
const credential = {
  id: 'c1',
  name: 'example',
  service: 'example',
  domains: [upstream.host],
  scopes: ['*'],
  secret,
}

const gate = createGate({
  credentials: { loadAll: () => [credential], changeToken: () => 'v1' },
  audit: {
    append: async () => 1, // resolves once the entry is durable; nothing is forwarded before
    complete: (_id, outcome) => console.log('audit', outcome.requestId, outcome.status),
    system: async () => 0,
  },
  port: 0,
  upstream: {
    ca: [upstream.ca],
    resolve: [{ host: upstream.host, port: 443, address: '127.0.0.1', addressPort: upstream.port }],
  },
})
const { url } = await gate.listen()

const res = await fetch(`${url}/example/v1/hello`) // the agent never holds the secret
console.log('status', res.status, 'body', await res.text())
const injected = upstream.authorization === `Bearer ${secret}`
console.log('upstream received the injected credential:', injected ? 'yes' : 'no')
await gate.close()
await upstream.close()
