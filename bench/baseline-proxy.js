// The yardstick: a minimal undici pass-through proxy with the same shape as the gate (plain HTTP
// in, a keep-alive undici Pool out over TLS to the pinned upstream address) and none of its checks.
// Usage: node bench/baseline-proxy.js <pki-dir> <upstream-port>. Prints {"port": n} when listening.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { announce, importFrom } from './lib/deps.js'
import { UPSTREAM_HOST } from './lib/pki.js'

const [pkiDir, portText] = process.argv.slice(2)
if (pkiDir === undefined || portText === undefined) {
  process.stderr.write('usage: node bench/baseline-proxy.js <pki-dir> <upstream-port>\n')
  process.exit(2)
}
const upstreamPort = Number(portText)
const { Pool, buildConnector } = await importFrom('proxy', 'undici')

const connect = buildConnector({
  ca: [readFileSync(join(pkiDir, 'ca.crt'), 'utf8')],
  rejectUnauthorized: true,
})
const pool = new Pool(`https://${UPSTREAM_HOST}`, {
  connections: 128,
  pipelining: 1,
  keepAliveTimeout: 10_000,
  connect: (opts, callback) =>
    connect(
      { ...opts, hostname: '127.0.0.1', port: String(upstreamPort), servername: UPSTREAM_HOST },
      callback,
    ),
})

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'host'])

/** `/bench/small` → `/small`, like the gate's `/{service}/path` routing. */
function upstreamPath(url) {
  const slash = url.indexOf('/', 1)
  return slash === -1 ? '/' : url.slice(slash)
}

const server = createServer(async (req, res) => {
  try {
    const headers = {}
    for (const [name, value] of Object.entries(req.headers)) if (!HOP.has(name)) headers[name] = value
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const response = await pool.request({
      path: upstreamPath(req.url ?? '/'),
      method: req.method ?? 'GET',
      headers,
      body: hasBody ? req : null,
    })
    const out = {}
    for (const [name, value] of Object.entries(response.headers)) if (!HOP.has(name)) out[name] = value
    res.writeHead(response.statusCode, out)
    await pipeline(response.body, res)
  } catch {
    if (!res.headersSent) res.writeHead(502)
    res.end()
  }
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  announce({ port: typeof address === 'object' && address !== null ? address.port : 0 })
})
// The runner asks for the memory breakdown (JS heap vs the rest) while the load runs.
process.on('SIGUSR2', () => announce({ memory: process.memoryUsage() }))
process.on('SIGTERM', async () => {
  server.closeAllConnections()
  server.close()
  await pool.destroy()
  process.exit(0)
})
