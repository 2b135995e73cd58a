import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { type Ledger, type LedgerExtension, openLedger } from '../src/index.js'
import type { LedgerEntry } from '../src/types.js'

let dir = ''
let ledger: Ledger | undefined
afterEach(async () => {
  await ledger?.close()
  rmSync(dir, { recursive: true, force: true })
})

const request = {
  requestId: 'r',
  channel: 'gate' as const,
  method: 'GET',
  path: '/s/x?q=1',
  decision: 'blocked' as const,
}

/** An extension that mirrors entry ids into its own table, and can be told to fail. */
function mirror(): LedgerExtension & { seen: LedgerEntry[][]; fail: boolean } {
  let db: Database.Database | undefined
  return {
    seen: [],
    fail: false,
    attach(connection) {
      db = connection
      db.exec('CREATE TABLE IF NOT EXISTS mirror (entry_id INTEGER NOT NULL)')
    },
    written(entries) {
      this.seen.push([...entries])
      for (const e of entries) db?.prepare('INSERT INTO mirror (entry_id) VALUES (?)').run(e.id)
      if (this.fail) throw new Error('extension failed')
    },
  }
}

describe('ledger extensions', () => {
  it('see each batch of new entries, with their ids, inside the batch transaction', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-ext-'))
    const ext = mirror()
    ledger = openLedger({ file: join(dir, 'l.db'), extensions: [ext] })
    const ids = await Promise.all([
      ledger.append(request),
      ledger.append(request),
      ledger.system('gate_start'),
    ])
    expect(ext.seen).toHaveLength(1)
    expect(ext.seen[0]?.map((e) => e.id)).toEqual(ids)
    expect(ext.seen[0]?.[0]?.path).toBe('/s/x')
  })

  it('a failing extension fails the whole batch: neither the entries nor its own rows commit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-ext-'))
    const ext = mirror()
    const file = join(dir, 'l.db')
    ledger = openLedger({ file, extensions: [ext] })
    ext.fail = true
    await expect(ledger.append(request)).rejects.toThrow(/Ledger write failed/)
    ext.fail = false
    const id = await ledger.append(request)
    expect(ledger.query({}).map((e) => e.id)).toEqual([id])
    await ledger.close()
    const again = mirror()
    ledger = openLedger({ file, extensions: [again] })
    expect(ledger.query({})).toHaveLength(1)
    const raw = new Database(file, { readonly: true })
    expect(raw.prepare('SELECT entry_id FROM mirror').all()).toEqual([{ entry_id: id }])
    raw.close()
  })

  it('also see an entry a completion decided anew (blocked after forwarding), not plain completions', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-ext-'))
    const ext = mirror()
    ledger = openLedger({ file: join(dir, 'l.db'), extensions: [ext] })
    const a = await ledger.append({ ...request, decision: 'allowed' })
    const b = await ledger.append({ ...request, decision: 'allowed' })
    ext.seen.length = 0
    ledger.complete(a, { durationMs: 5, bytesIn: 1, bytesOut: 2, status: 200 })
    ledger.complete(b, {
      decision: 'blocked',
      code: 'body_too_large',
      status: 413,
      durationMs: 5,
      bytesIn: 0,
      bytesOut: 0,
    })
    await ledger.flush()
    expect(ext.seen).toHaveLength(1)
    expect(ext.seen[0]?.map((e) => [e.id, e.decision, e.code])).toEqual([[b, 'blocked', 'body_too_large']])
  })

  it('with decisions set, are handed only those entries (allowed requests cost nothing)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-ext-'))
    const ext = { ...mirror(), decisions: ['blocked'] as const }
    ledger = openLedger({ file: join(dir, 'l.db'), extensions: [ext] })
    await Promise.all([ledger.append({ ...request, decision: 'allowed' }), ledger.system('gate_start')])
    expect(ext.seen).toHaveLength(0)
    const [, b] = await Promise.all([
      ledger.append({ ...request, decision: 'allowed' }),
      ledger.append(request),
    ])
    expect(ext.seen.map((batch) => batch.map((e) => e.id))).toEqual([[b]])
  })
})
