// The local upstream: HTTPS with keep-alive on 127.0.0.1, answering /small (≈60-byte JSON),
// /16k (16 KiB JSON) and /256k (256 KiB JSON: over the gate's 64 KiB buffering limit, so it streams).
// Usage: node bench/upstream.js <pki-dir>. Prints {"port": n} when listening.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { join } from 'node:path'
import { announce } from './lib/deps.js'

const pkiDir = process.argv[2]
if (pkiDir === undefined) {
  process.stderr.write('usage: node bench/upstream.js <pki-dir>\n')
  process.exit(2)
}

const small = Buffer.from(JSON.stringify({ ok: true, id: 'req_0123456789', items: [1, 2, 3], next: null }))

/** A JSON document of exactly `size` bytes. */
function jsonOfSize(size) {
  const shell = JSON.stringify({ ok: true, data: '' })
  return Buffer.from(JSON.stringify({ ok: true, data: 'x'.repeat(size - shell.length) }))
}
const large = jsonOfSize(16 * 1024)

const routes = new Map([
  ['/small', small],
  ['/16k', large],
  ['/256k', jsonOfSize(256 * 1024)],
])

const server = createServer(
  {
    cert: readFileSync(join(pkiDir, 'leaf.crt')),
    key: readFileSync(join(pkiDir, 'leaf.key')),
    keepAlive: true,
    keepAliveTimeout: 65_000,
  },
  (req, res) => {
    const body = routes.get(req.url ?? '')
    req.resume()
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': 2 })
      res.end('{}')
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
    res.end(body)
  },
)
server.keepAliveTimeout = 65_000
// TLS handshakes so far: tells the runner how well a proxy reuses its upstream connections.
let handshakes = 0
server.on('secureConnection', () => {
  handshakes++
})
process.on('SIGUSR2', () => announce({ handshakes }))
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  announce({ port: typeof address === 'object' && address !== null ? address.port : 0, small: small.length })
})
process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
