// The yardstick of bench/nginx.js: the smallest Node proxy that does the gate's hop. Plain HTTP in,
// `/{service}/path` routed to one TLS upstream through an undici Pool (keep-alive, 128 connections),
// a bearer token injected, the response written back chunk by chunk. No checks, no ledger, no
// logging, no stream pipeline: what one Node process costs for the hop itself.
// Usage: node bench/min-proxy.js <ca.pem> <upstream-port>. Prints {"port": n} when listening.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { announce, importFrom } from './lib/deps.js'
import { UPSTREAM_HOST } from './lib/pki.js'

const [caFile, portText] = process.argv.slice(2)
if (caFile === undefined || portText === undefined) {
  process.stderr.write('usage: node bench/min-proxy.js <ca.pem> <upstream-port>\n')
  process.exit(2)
}
const { Pool } = await importFrom('proxy', 'undici')
const pool = new Pool(`https://127.0.0.1:${portText}`, {
  connections: 128,
  connect: { ca: readFileSync(caFile, 'utf8'), servername: UPSTREAM_HOST },
})
// The same token the gate injects (the bench vault's secret): the upstream echoes it either way.
const AUTHORIZATION = 'Bearer bench-secret-token'

const server = createServer(async (req, res) => {
  try {
    const url = req.url ?? '/'
    const slash = url.indexOf('/', 1)
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const up = await pool.request({
      method: req.method ?? 'GET',
      path: slash === -1 ? '/' : url.slice(slash),
      headers: {
        host: UPSTREAM_HOST,
        authorization: AUTHORIZATION,
        'content-type': req.headers['content-type'] ?? 'application/json',
      },
      body: hasBody ? req : null,
    })
    res.writeHead(up.statusCode, up.headers)
    for await (const chunk of up.body) res.write(chunk)
    res.end()
  } catch {
    if (!res.headersSent) res.writeHead(502)
    res.end()
  }
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  announce({ port: typeof address === 'object' && address !== null ? address.port : 0 })
})
process.on('SIGTERM', async () => {
  server.closeAllConnections()
  server.close()
  await pool.destroy()
  process.exit(0)
})
