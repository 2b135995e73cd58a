import { PassThrough, Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  CSV_COLUMNS,
  exportLedger,
  type Ledger,
  type LedgerEntry,
  openLedger,
  sqliteLedgerStore,
} from '../src/index.js'
import { entry, parseCsv, tempLedgerFile } from './helpers.js'

let ledger: Ledger

beforeEach(() => {
  ledger = openLedger({ file: tempLedgerFile() })
})

afterEach(async () => {
  await ledger.close()
})

/** Collects everything written, never asking the producer to wait. */
function sink(): { out: PassThrough; text: () => string } {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (chunk: Buffer) => chunks.push(chunk))
  return { out, text: () => Buffer.concat(chunks).toString('utf8') }
}

async function exported(
  format: 'csv' | 'json' | 'jsonl',
  filter = {},
): Promise<{ rows: number; text: string }> {
  const { out, text } = sink()
  const { rows } = await ledger.exportTo(format, filter, out)
  return { rows, text: text() }
}

async function seed(): Promise<number[]> {
  const ids = await Promise.all([
    ledger.append(entry({ requestId: 'r1', service: 'slack', path: '/chat.postMessage', status: 200 })),
    ledger.append(
      entry({
        requestId: 'r2',
        service: 'github',
        decision: 'blocked',
        code: 'domain_denied',
        status: 403,
        targetHost: 'evil.example',
      }),
    ),
  ])
  ids.push(await ledger.system('gate_stop', 'shutdown, "drained"\nafter 3 requests'))
  ids.push(await ledger.system('gate_start', 'line one\nline two\rthree'))
  return ids
}

describe('exportTo', () => {
  it('json: one array of entries, oldest first, in the query shape', async () => {
    await seed()
    const { rows, text } = await exported('json')
    expect(rows).toBe(4)
    const parsed = JSON.parse(text) as LedgerEntry[]
    expect(parsed.map((e) => e.requestId ?? e.event)).toEqual(['r1', 'r2', 'gate_stop', 'gate_start'])
    expect(parsed).toEqual([...ledger.query({})].reverse())
    expect(parsed[2]?.detail).toBe('shutdown, "drained"\nafter 3 requests')
  })

  it('json: an empty selection is an empty array', async () => {
    await seed()
    const { rows, text } = await exported('json', { service: 'nothing' })
    expect(rows).toBe(0)
    expect(JSON.parse(text)).toEqual([])
  })

  it('jsonl: one entry per line, honouring the filter', async () => {
    await seed()
    const { rows, text } = await exported('jsonl', { service: 'github' })
    expect(rows).toBe(1)
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ requestId: 'r2', code: 'domain_denied', status: 403 })
  })

  it('csv: RFC 4180 with a header row; quotes, commas and newlines survive a round trip', async () => {
    const ids = await seed()
    const { rows, text } = await exported('csv')
    expect(rows).toBe(4)
    const records = parseCsv(text)
    expect(records[0]).toEqual([...CSV_COLUMNS])
    expect(records).toHaveLength(5)
    const byColumn = (record: string[] | undefined) =>
      Object.fromEntries(CSV_COLUMNS.map((name, i) => [name, record?.[i]]))
    expect(byColumn(records[1])).toMatchObject({
      id: String(ids[0]),
      requestId: 'r1',
      service: 'slack',
      path: '/chat.postMessage',
      status: '200',
      code: '',
    })
    expect(byColumn(records[3])).toMatchObject({
      decision: 'system',
      event: 'gate_stop',
      detail: 'shutdown, "drained"\nafter 3 requests',
    })
    expect(byColumn(records[4])).toMatchObject({ event: 'gate_start', detail: 'line one\nline two\rthree' })
  })

  it('csv: neutralises cells a spreadsheet would run as formulas, but not numbers', async () => {
    const hostile = [
      '=HYPERLINK("http://x")',
      '+1+1',
      '-2+3',
      '@SUM(A1)',
      '\tcmd',
      '\rcmd',
      '\ncmd',
      '\uff1dHYPERLINK("http://x")',
      '\uff0b1+1',
      '\uff0d2+3',
      '\uff20SUM(A1)',
    ]
    for (const [i, agent] of hostile.entries()) {
      await ledger.append(entry({ agent, requestId: `h${i}`, path: '/=1+1' }))
    }
    const id = await ledger.append(entry({ requestId: 'safe', agent: 'a=b' }))
    ledger.complete(id, { status: 200, durationMs: 0, bytesIn: 0, bytesOut: 0 })
    await ledger.flush()
    const records = parseCsv((await exported('csv')).text).slice(1)
    const agentAt = CSV_COLUMNS.indexOf('agent')
    const pathAt = CSV_COLUMNS.indexOf('path')
    expect(records.map((r) => r[agentAt])).toEqual([...hostile.map((h) => `'${h}`), 'a=b'])
    expect(records[0]?.[pathAt]).toBe('/=1+1')
    const last = records.at(-1) ?? []
    expect(last[CSV_COLUMNS.indexOf('status')]).toBe('200')
    expect(last[CSV_COLUMNS.indexOf('durationMs')]).toBe('0')
  })

  it('waits for drain on a slow output and delivers every row in order', async () => {
    const total = 3000
    for (let i = 0; i < total; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, k) => ledger.append(entry({ requestId: `s${i + k}` }))),
      )
    }
    const received: string[] = []
    let writes = 0
    let drains = 0
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        writes++
        received.push(chunk.toString('utf8'))
        setTimeout(callback, 1)
      },
    })
    slow.on('drain', () => drains++)
    let maxBuffered = 0
    const write = slow.write.bind(slow)
    slow.write = ((chunk: string) => {
      const ok = write(chunk)
      maxBuffered = Math.max(maxBuffered, slow.writableLength)
      return ok
    }) as typeof slow.write

    const { rows } = await ledger.exportTo('jsonl', {}, slow)
    expect(rows).toBe(total)
    expect(drains).toBeGreaterThan(0)
    await new Promise<void>((resolve) => slow.end(resolve))
    // the producer waited for each drain: never more than about one 64 KiB chunk was queued,
    // although the export is far bigger than that
    expect(received.join('').length).toBeGreaterThan(10 * 70_000)
    expect(maxBuffered).toBeLessThanOrEqual(70_000)
    const lines = received.join('').trimEnd().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as LedgerEntry).requestId)).toEqual(
      Array.from({ length: total }, (_, i) => `s${i}`),
    )
    expect(writes).toBeGreaterThan(1)
  })

  it('keeps committing appends while an export is paused on a slow output', async () => {
    await Promise.all(Array.from({ length: 2000 }, () => ledger.append(entry())))
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const stalled = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        void gate.then(() => callback())
      },
    })
    const exporting = ledger.exportTo('json', {}, stalled)
    const id = await ledger.append(entry({ requestId: 'while-exporting' }))
    expect(ledger.query({ limit: 1 })[0]).toMatchObject({ id, requestId: 'while-exporting' })
    release()
    const { rows } = await exporting
    expect(rows).toBeGreaterThanOrEqual(2000)
  })

  it('rejects when the output fails, and does not end the caller’s stream on success', async () => {
    await seed()
    const broken = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        callback(new Error('disk full'))
      },
    })
    await expect(ledger.exportTo('csv', {}, broken)).rejects.toMatchObject({ code: 'output_failed' })

    const { out } = sink()
    await ledger.exportTo('jsonl', {}, out)
    expect(out.writableEnded).toBe(false)
  })

  it('refuses an unknown format', async () => {
    await expect(ledger.exportTo('xml' as never, {}, sink().out)).rejects.toMatchObject({
      code: 'invalid_filter',
    })
  })
})

describe('exportLedger (either engine, from store.iterate)', () => {
  it.each(['csv', 'json', 'jsonl'] as const)('%s: the same bytes as Ledger.exportTo', async (format) => {
    await seed()
    await ledger.append(entry({ requestId: '=cmd', path: '/a,b\r\n"c"', agent: '@x', status: 500 }))
    const direct = await exported(format, { requests: true })
    const { out, text } = sink()
    const { rows } = await exportLedger(sqliteLedgerStore(ledger), format, { requests: true }, out)
    expect(rows).toBe(direct.rows)
    expect(text()).toBe(direct.text)
  })

  it('writes nothing and rejects on a bad filter or format', async () => {
    const { out, text } = sink()
    const store = sqliteLedgerStore(ledger)
    await expect(exportLedger(store, 'csv', { limit: 0 }, out)).rejects.toMatchObject({
      code: 'invalid_filter',
    })
    await expect(exportLedger(store, 'yaml' as never, {}, out)).rejects.toMatchObject({
      code: 'invalid_filter',
    })
    expect(text()).toBe('')
  })
})
