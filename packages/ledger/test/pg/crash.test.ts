import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../../test-support/pg-url.js'
import { useLedgerDatabase } from './helpers.js'

/** The child runs the real TypeScript sources through tsx's ESM loader (a dev dependency). */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const child = fileURLToPath(new URL('../fixtures/pg-crash-child.ts', import.meta.url))

const adminUrl = pgTestUrl('@aegis/ledger PostgreSQL crash durability')

describe.skipIf(adminUrl === undefined)('PostgreSQL crash durability', () => {
  const db = useLedgerDatabase(adminUrl)

  it.each([
    ['one statement per batch', 'plain'],
    ['a transaction with an extension per batch', 'extension'],
  ])('kill -9 under load (%s): every append that resolved is in the table', async (_, mode) => {
    await db.empty()
    await db.pool.query('CREATE TABLE IF NOT EXISTS public.crash_side (entry_id bigint NOT NULL)')
    await db.pool.query('TRUNCATE public.crash_side')
    const proc = spawn(process.execPath, ['--import', tsx, child, db.url, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const printed: Array<[number, string]> = []
    let partial = ''
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      proc.on('exit', (_code, signal) => resolve(signal)),
    )
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n')
        partial = lines.pop() ?? ''
        for (const line of lines) {
          const [id, requestId] = line.split(' ')
          printed.push([Number(id), requestId ?? ''])
        }
        if (printed.length >= 3000 && proc.exitCode === null && !proc.killed) {
          proc.kill('SIGKILL')
          resolve()
        }
      })
      proc.on('exit', () => reject(new Error(`child exited early: ${stderr}`)))
    })
    expect(await exited).toBe('SIGKILL')
    // Lines already in the pipe when the child died are appends that resolved too.
    await new Promise((resolve) => setImmediate(resolve))

    const stored = await db.pool.query<{ id: string; request_id: string }>(
      'SELECT id, request_id FROM aegis.ledger_entries WHERE id = ANY($1::bigint[])',
      [printed.map(([id]) => id)],
    )
    const byId = new Map(stored.rows.map((r) => [Number(r.id), r.request_id]))
    const missing = printed.filter(([id, requestId]) => byId.get(id) !== requestId)
    expect(missing).toEqual([])
    expect(new Set(printed.map(([id]) => id)).size).toBe(printed.length)
    const total = Number((await db.pool.query('SELECT count(*) AS n FROM aegis.ledger_entries')).rows[0].n)
    expect(total).toBeGreaterThanOrEqual(printed.length)
    if (mode === 'extension') {
      // The extension's rows committed with the entries, never without them.
      const side = Number((await db.pool.query('SELECT count(*) AS n FROM public.crash_side')).rows[0].n)
      expect(side).toBe(total)
    }
  })
})
