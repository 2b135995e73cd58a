import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { testPki } from '../../../packages/proxy/test/fixtures/tls.js'
import { startUpstream, type TestUpstream } from '../../../packages/proxy/test/fixtures/upstream.js'
import { startGateProcess } from './helpers/gate-process.js'
import { removeDir, runCli, tempDir } from './helpers/run-cli.js'

const TOKEN = 'metrics-token-for-the-cli-test-0123'

/** Starts `aegis gate` in the background and waits for its "listening on" line. */
const startGate = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  startGateProcess(cwd, args, env)

function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }))
    })
    req.on('error', reject)
    req.end()
  })
}

let upstream: TestUpstream
let dir: string
let flags: string[]
const running: ChildProcess[] = []
beforeAll(async () => {
  upstream = await startUpstream()
  dir = tempDir()
  const caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, testPki().caCert)
  flags = ['--upstream-ca', caFile, '--resolve', `api.example.test:443:127.0.0.1:${upstream.port}`]
  expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
  const added = await runCli(
    ['vault', 'add', '--name', 'gh', '--service', 'github', '--secret', '-', '--domains', 'api.example.test'],
    { cwd: dir, input: 'ghp_metrics_cli_secret_value' },
  )
  expect(added.code, added.stderr).toBe(0)
})
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL')
})
afterAll(async () => {
  await upstream.close()
  removeDir(dir)
})

describe('aegis gate metrics (observability.metrics in the starter config)', () => {
  it('serves /_aegis/metrics with the counted requests when metrics is true', async () => {
    const gate = await startGate(dir, flags)
    running.push(gate.child)
    expect((await get(gate.port, '/github/user')).status).toBe(200)
    const scraped = await get(gate.port, '/_aegis/metrics')
    expect(scraped.status).toBe(200)
    expect(scraped.type).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(scraped.body).toContain(
      'aegis_requests_total{service="github",method="GET",decision="allowed",code="ok"} 1',
    )
    expect(scraped.body).toMatch(/aegis_build_info\{version="\d+\.\d+\.\d+[^"]*",node_version="v/)
  })

  it('asks for AEGIS_METRICS_TOKEN when it is set', async () => {
    const gate = await startGate(dir, flags, { AEGIS_METRICS_TOKEN: TOKEN })
    running.push(gate.child)
    expect((await get(gate.port, '/_aegis/metrics')).status).toBe(401)
    const ok = await get(gate.port, '/_aegis/metrics', { authorization: `Bearer ${TOKEN}` })
    expect(ok.status).toBe(200)
  })

  it('switches the endpoint off with metrics: false', async () => {
    const file = join(dir, 'aegis.config.yaml')
    const original = readFileSync(file, 'utf8')
    expect(original).toMatch(/^ {2}metrics: true/m)
    writeFileSync(file, original.replace(/^ {2}metrics: true/m, '  metrics: false'), { mode: 0o600 })
    try {
      const gate = await startGate(dir, flags)
      running.push(gate.child)
      const reply = await get(gate.port, '/_aegis/metrics')
      expect(reply.status).toBe(404)
      expect(JSON.parse(reply.body)).toMatchObject({ code: 'not_found' })
    } finally {
      writeFileSync(file, original, { mode: 0o600 })
    }
  })
})
