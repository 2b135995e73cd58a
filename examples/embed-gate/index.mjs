// Embeds the gate with an in-memory credential source against a local HTTPS upstream.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGate } from '@aegis/proxy'

// A throwaway certificate for the stand-in upstream `api.example.test`.
const dir = mkdtempSync(join(tmpdir(), 'embed-gate-'))
const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=api.example.test',
    '-addext',
    'subjectAltName=DNS:api.example.test',
    '-keyout',
    key,
    '-out',
    cert,
  ],
  { stdio: 'ignore' },
)
const pem = { key: readFileSync(key), cert: readFileSync(cert) }

let seen = null
const upstream = createServer(pem, (req, res) => {
  seen = req.headers.authorization
  res.end('{"ok":true}')
})
await new Promise((r) => upstream.listen(0, '127.0.0.1', r))

const secret = 'sk-example-0123456789abcdef' // in real use: from your own secret store
const credential = {
  id: 'c1',
  name: 'example',
  service: 'example',
  domains: ['api.example.test'],
  scopes: ['*'],
  expiresAt: null,
  rateLimit: null,
  authType: 'bearer',
  headerName: null,
  queryParam: null,
  bodyInspection: 'block',
  secret,
}
const gate = createGate({
  credentials: { loadAll: () => [credential], changeToken: () => 'v1' },
  audit: {
    append: async () => 1,
    complete: (_id, o) => console.log('audit', o.requestId, o.status),
    system: async () => 0,
  },
  port: 0,
  upstream: {
    ca: [pem.cert],
    resolve: [
      { host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: upstream.address().port },
    ],
  },
})
const { url } = await gate.listen()

const res = await fetch(`${url}/example/v1/hello`) // the agent never holds the secret
console.log('status', res.status, 'body', await res.text())
console.log('upstream received the injected credential:', seen === `Bearer ${secret}` ? 'yes' : 'no')
await gate.close()
upstream.close()
