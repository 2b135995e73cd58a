// Open a ledger in a temporary folder, record a request and its outcome, query it back.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'

const dir = mkdtempSync(join(tmpdir(), 'aegis-ledger-'))
const ledger = openLedger({ file: join(dir, 'ledger.db') }) // sync: creates (0600) and migrates
try {
  await ledger.system('gate_start', 'listening on http://127.0.0.1:3100')

  // In the request pipeline: forward ONLY after this resolves; if it rejects, refuse (503).
  const requestId = randomUUID()
  const id = await ledger.append({
    requestId,
    channel: 'gate',
    agent: 'research-bot',
    credential: 'github-main',
    service: 'github',
    targetHost: 'api.github.com',
    method: 'GET',
    path: '/repos/acme/app?per_page=5', // the query is cut off before storing
    decision: 'allowed',
  })
  // After the response went out: batched, best-effort.
  ledger.complete(id, { status: 200, durationMs: 84, bytesIn: 0, bytesOut: 5120 })
  await ledger.flush()

  const [row] = ledger.query({ service: 'github', limit: 10 }) // newest first
  assert.equal(row.requestId, requestId)
  assert.equal(row.path, '/repos/acme/app')
  assert.equal(row.status, 200)
  assert.equal(ledger.stats({ service: 'github' }).total, 1)
} finally {
  await ledger.close() // flushes queued appends and completions
  rmSync(dir, { recursive: true, force: true })
}
