import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The host name the upstream's certificate is issued for (the gate's credential domain). */
export const UPSTREAM_HOST = 'api.bench.test'

/**
 * Makes a throwaway CA and a leaf certificate for `api.bench.test` with the system's openssl, in a
 * fresh temp directory. Returns the directory; it holds ca.crt, leaf.crt and leaf.key.
 */
export function makePki() {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-pki-'))
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  run(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt'].concat([
      '-days',
      '2',
      '-subj',
      '/CN=Aegis Bench CA',
    ]),
  )
  run(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr'].concat([
      '-subj',
      `/CN=${UPSTREAM_HOST}`,
    ]),
  )
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=DNS:${UPSTREAM_HOST}\nbasicConstraints=CA:FALSE\n`)
  run(
    ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'leaf.crt',
      '-days',
      '2',
      '-extfile',
      'leaf.ext',
    ]),
  )
  return dir
}
