import { statSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import { openLedger } from '../src/index.js'
import { entry, tempLedgerFile } from './helpers.js'

/** Writes `batches` group commits of `size` entries each. */
async function write(ledger: ReturnType<typeof openLedger>, batches: number, size: number): Promise<void> {
  for (let b = 0; b < batches; b++) {
    await Promise.all(Array.from({ length: size }, () => ledger.append(entry())))
  }
}

describe('checkpointing', () => {
  it('background: a worker copies the log into the database file while the writer goes on', async () => {
    const file = tempLedgerFile()
    const ledger = openLedger({ file, checkpoint: 'background' })
    const before = statSync(file).size
    await write(ledger, 40, 50)
    // Far below the writer's own threshold: only the worker can have grown the main file.
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 64 * 1024), {
      timeout: 3000,
      interval: 50,
    })
    expect(ledger.query({ limit: 2000 })).toHaveLength(2000)
    await ledger.close()
  })

  it('inline: nothing reaches the main file before the writer crosses its threshold', async () => {
    const file = tempLedgerFile()
    const ledger = openLedger({ file })
    const before = statSync(file).size
    await write(ledger, 40, 50)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(statSync(file).size).toBe(before)
    await ledger.close()
  })

  it('background: close() stops the worker and every entry is there on reopening', async () => {
    const file = tempLedgerFile()
    const ledger = openLedger({ file, checkpoint: 'background' })
    await write(ledger, 5, 20)
    const started = Date.now()
    await ledger.close()
    expect(Date.now() - started).toBeLessThan(2000)
    const again = openLedger({ file })
    expect(again.stats().total).toBe(100)
    await again.close()
  })
})
