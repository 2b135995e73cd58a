import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { LedgerEntryInput } from '../src/index.js'

const dirs: string[] = []

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-ledger-'))
  dirs.push(dir)
  return dir
}

/** A path for a ledger file in a fresh temporary folder. */
export function tempLedgerFile(): string {
  return join(tempDir(), 'ledger.db')
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

let counter = 0

/** A plausible allowed gate request; override any field. */
export function entry(overrides: Partial<LedgerEntryInput> = {}): LedgerEntryInput {
  counter++
  return {
    requestId: `req-${counter}`,
    channel: 'gate',
    agent: 'research-bot',
    credential: 'github-main',
    service: 'github',
    targetHost: 'api.github.com',
    method: 'GET',
    path: '/repos/acme/app',
    decision: 'allowed',
    ...overrides,
  }
}

/** A minimal RFC 4180 reader (no CSV parser is installed here), strict about quoting. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let record: string[] = []
  let field = ''
  let i = 0
  while (i < text.length) {
    const ch = text[i]
    if (ch === '"' && field === '') {
      i++
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field')
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }
          i++
          break
        }
        field += text[i]
        i++
      }
      if (i < text.length && text[i] !== ',' && !text.startsWith('\r\n', i))
        throw new Error('junk after quote')
      continue
    }
    if (ch === ',') {
      record.push(field)
      field = ''
      i++
    } else if (text.startsWith('\r\n', i)) {
      record.push(field)
      records.push(record)
      record = []
      field = ''
      i += 2
    } else {
      if (ch === '"' || ch === '\n' || ch === '\r')
        throw new Error(`bare ${JSON.stringify(ch)} in unquoted field`)
      field += ch
      i++
    }
  }
  if (field !== '' || record.length > 0) throw new Error('last record not terminated by CRLF')
  return records
}
