// A gate in front of a local HTTPS upstream: credentials and audit in memory, one embedder stage.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGate, refuse } from '@aegis/proxy'

// The upstream: a stand-in for https://api.example.test on 127.0.0.1, with a throwaway certificate.
const dir = mkdtempSync(join(tmpdir(), 'aegis-proxy-'))
const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
const subject = ['-subj', '/CN=api.example.test', '-addext', 'subjectAltName=DNS:api.example.test']
const openssl = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', ...subject]
execFileSync('openssl', [...openssl, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' })
const tls = { key: readFileSync(keyFile), cert: readFileSync(certFile) }
rmSync(dir, { recursive: true, force: true })
const received = []
const upstream = createServer(tls, (req, res) => {
  received.push(req.headers.authorization)
  res.end(`{"you sent":"${req.headers.authorization}"}`) // an upstream that echoes the credential
})
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve))

const secret = 'sk-example-0123456789abcdef'
const audit = []
const gate = createGate({
  credentials: {
    loadAll: () => [
      { id: 'c1', name: 'example', service: 'example', domains: ['api.example.test'], scopes: ['*'], secret },
    ],
    changeToken: () => 'v1', // polled every 250 ms; the credentials are re-read when it changes
  },
  audit: { append: async (entry) => audit.push(entry), complete: () => {}, system: async () => 0 },
  // Your own checks run after every built-in one (identity, grants, scopes, policies, destination,
  // budgets, inspection) and cannot remove them.
  stages: [
    (ctx) => (ctx.path.startsWith('/admin') ? refuse('policy_denied', 'not through this gate') : undefined),
  ],
  port: 0,
  upstream: {
    ca: [tls.cert],
    resolve: [
      { host: 'api.example.test', port: 443, address: '127.0.0.1', addressPort: upstream.address().port },
    ],
  },
})
const { url } = await gate.listen()

const ok = await fetch(`${url}/example/v1/hello`) // the agent never holds the secret
assert.equal(ok.status, 200)
assert.equal(received.at(-1), `Bearer ${secret}`) // injected on the way out
assert.equal(await ok.text(), '{"you sent":"Bearer [REDACTED]"}') // redacted on the way back

const admin = await fetch(`${url}/example/admin/users`)
assert.equal(admin.status, 403)
assert.equal((await admin.json()).code, 'policy_denied')
assert.equal(received.length, 1) // nothing forwarded
assert.deepEqual(
  audit.map((e) => e.decision),
  ['allowed', 'blocked'],
)

await gate.close()
upstream.close()
