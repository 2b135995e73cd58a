#!/usr/bin/env node
// A local HTTPS "API" for trying the gate without internet: it answers every request with what it
// received (method, path, and the Authorization header the gate injected), as https://api.demo.test.
// On first start it makes a throwaway CA and a certificate for api.demo.test with openssl, in
// --dir (default ./.demo-upstream); the gate trusts it with --upstream-ca and reaches it with --resolve:
//
//   node scripts/demo-upstream.mjs --port 8443 &
//   aegis gate --upstream-ca .demo-upstream/ca.pem --resolve api.demo.test:443:127.0.0.1:8443
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: { port: { type: 'string', default: '8443' }, dir: { type: 'string', default: '.demo-upstream' } },
})
const dir = resolve(values.dir)
const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`demo-upstream: --port expects 0-65535, got "${values.port}"`)
  process.exit(2)
}

if (!existsSync(join(dir, 'leaf.pem'))) {
  mkdirSync(dir, { recursive: true })
  const openssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '30',
    '-subj',
    '/CN=Aegis demo CA',
  ])
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
    '-subj',
    '/CN=api.demo.test',
  ])
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:api.demo.test\nbasicConstraints=CA:FALSE\n')
  openssl([
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'leaf.pem',
    '-days',
    '30',
    '-extfile',
    'leaf.ext',
  ])
}

const server = createServer(
  { cert: readFileSync(join(dir, 'leaf.pem')), key: readFileSync(join(dir, 'leaf.key')) },
  (req, res) => {
    req.resume()
    req.on('end', () => {
      // Echoing the credential shows the gate's response redaction: the agent sees [REDACTED].
      const body = JSON.stringify({
        ok: true,
        method: req.method,
        path: req.url,
        authorization: req.headers.authorization ?? null,
      })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(`${body}\n`)
    })
  },
)
server.listen(port, '127.0.0.1', () => {
  const { port: bound } = server.address()
  console.log(`demo upstream: https://api.demo.test on 127.0.0.1:${bound}, CA ${join(dir, 'ca.pem')}`)
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)))
