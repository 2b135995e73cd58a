// A stand-in upstream for the example: `https://api.example.test` served on 127.0.0.1 with a
// throwaway self-signed certificate (openssl). It remembers the Authorization header it received.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function startLocalUpstream(host = 'api.example.test') {
  const dir = mkdtempSync(join(tmpdir(), 'embed-gate-'))
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
  const subject = ['-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`]
  const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
  execFileSync(
    'openssl',
    ['req', '-x509', ...curve, '-nodes', '-days', '1', ...subject, '-keyout', key, '-out', cert],
    {
      stdio: 'ignore',
    },
  )
  const pem = { key: readFileSync(key), cert: readFileSync(cert) }
  rmSync(dir, { recursive: true, force: true })
  const upstream = { host, ca: pem.cert, authorization: null, port: 0 }
  const server = createServer(pem, (req, res) => {
    upstream.authorization = req.headers.authorization ?? null
    res.end('{"ok":true}')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  upstream.port = server.address().port
  upstream.close = () => new Promise((resolve) => server.close(resolve))
  return upstream
}
