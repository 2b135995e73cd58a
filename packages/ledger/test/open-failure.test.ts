import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LedgerError, openLedger } from '../src/index.js'
import { entry, tempLedgerFile } from './helpers.js'

const mounts: string[] = []
afterEach(() => {
  for (const dir of mounts.splice(0)) {
    execFileSync('umount', [dir])
    rmSync(dir, { recursive: true, force: true })
  }
})

/** A tmpfs of 256 KiB: a real full disk once filled. Null where this process may not mount. */
function smallDisk(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-ledger-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'ignore' })
    mounts.push(dir)
    return dir
  } catch {
    rmSync(dir, { recursive: true, force: true })
    return null
  }
}

function openError(file: string): LedgerError {
  try {
    openLedger({ file }).close()
  } catch (err) {
    return err as LedgerError
  }
  throw new Error('the ledger opened')
}

describe('a ledger that cannot be opened or written says why', () => {
  it('a file that is not a database', () => {
    const file = tempLedgerFile()
    writeFileSync(file, 'this is not a database'.repeat(200))
    const error = openError(file)
    expect(error).toBeInstanceOf(LedgerError)
    expect(error.message).toBe(
      `Cannot open the ledger at ${file}: the file is not a ledger database (corrupted): restore it from a backup, or move it aside for a new, empty ledger`,
    )
  })

  it.skipIf(smallDisk() === null)('a full disk', () => {
    const disk = smallDisk() as string
    try {
      for (let i = 0; ; i++) writeFileSync(join(disk, `filler-${i}`), Buffer.alloc(16 * 1024))
    } catch {}
    const file = join(disk, 'ledger.db')
    const error = openError(file)
    expect(error.message).toBe(
      `Cannot open the ledger at ${file}: the disk is full: free some space on it and try again`,
    )
  })

  it.skipIf(smallDisk() === null)('a read-only mount', async () => {
    const disk = smallDisk() as string
    const file = join(disk, 'ledger.db')
    await openLedger({ file }).close()
    execFileSync('mount', ['-o', 'remount,ro', disk])
    const error = openError(file)
    execFileSync('mount', ['-o', 'remount,rw', disk])
    expect(error.message).toBe(`Cannot open the ledger at ${file}: the file or its folder is read-only`)
  })

  it.skipIf(smallDisk() === null).each(['inline', 'worker'] as const)(
    'a write that runs out of space (%s writer) says the disk is full',
    async (writer) => {
      const disk = smallDisk() as string
      const ledger = openLedger({ file: join(disk, 'ledger.db'), writer })
      await ledger.system('gate_start')
      try {
        for (let i = 0; ; i++) writeFileSync(join(disk, `filler-${i}`), Buffer.alloc(4096))
      } catch {}
      let error: unknown
      try {
        for (let i = 0; i < 500; i++) await ledger.append(entry({ path: `/${'x'.repeat(2000)}` }))
      } catch (err) {
        error = err
      }
      await ledger.close().catch(() => {})
      expect(error).toBeInstanceOf(LedgerError)
      expect((error as LedgerError).message).toBe(
        'Ledger write failed: the disk is full: free some space on it and try again',
      )
    },
  )
})
