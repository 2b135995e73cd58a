import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { tempLedgerFile } from './helpers.js'

/** The child runs the real TypeScript sources through tsx's ESM loader (a dev dependency). */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const child = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url))

describe.each(['inline', 'worker'])('crash durability (writer: %s)', (writer) => {
  it('every append that resolved before kill -9 is on disk', async () => {
    const file = tempLedgerFile()
    const proc = spawn(process.execPath, ['--import', tsx, child, file, writer], {
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
        if (printed.length >= 2000 && proc.exitCode === null && !proc.killed) {
          proc.kill('SIGKILL')
          resolve()
        }
      })
      proc.on('exit', () => reject(new Error(`child exited early: ${stderr}`)))
    })
    expect(await exited).toBe('SIGKILL')

    const db = new Database(file, { readonly: true })
    try {
      const byId = db.prepare('SELECT request_id FROM entries WHERE id = ?').pluck()
      const missing = printed.filter(([id, requestId]) => byId.get(id) !== requestId)
      expect(missing).toEqual([])
      const stored = db.prepare('SELECT count(*) FROM entries').pluck().get() as number
      expect(stored).toBeGreaterThanOrEqual(printed.length)
    } finally {
      db.close()
    }
  })
})
