import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openVault, VaultError } from '../src/index.js'
import { MASTER_KEY, newVault, sampleCredential } from './helpers.js'

/** A tmpfs of 512 KiB: a real full disk. Null where this process may not mount (not root). */
function smallDisk(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', dir], { stdio: 'ignore' })
    mounts.push(dir)
    return dir
  } catch {
    rmSync(dir, { recursive: true, force: true })
    return null
  }
}

const mounts: string[] = []
afterEach(() => {
  for (const dir of mounts.splice(0)) {
    execFileSync('umount', [dir])
    rmSync(dir, { recursive: true, force: true })
  }
})

/** Writes filler files until the disk holding `dir` has no byte left. */
function fill(dir: string): string[] {
  const files: string[] = []
  for (let i = 0; ; i++) {
    const f = join(dir, `filler-${i}`)
    try {
      writeFileSync(f, Buffer.alloc(16 * 1024))
      files.push(f)
    } catch {
      files.push(f)
      return files
    }
  }
}

const canMount = smallDisk() !== null

describe.skipIf(!canMount)('a full disk', () => {
  it('is reported as a full disk, never as a corrupted database, and the vault is intact once space is freed', () => {
    const disk = smallDisk() as string
    const dataDir = join(disk, 'data')
    const v = newVault(dataDir)
    v.add(sampleCredential({ name: 'kept', service: 'kept' }))
    v.close()
    const fillers = fill(disk)

    let error: unknown
    try {
      openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }).close()
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(VaultError)
    expect((error as VaultError).code).toBe('io')
    expect((error as VaultError).message).toBe(
      `Disk is full: cannot write ${join(dataDir, 'vaults', 'default.db')} (free some space on that disk and try again; the vault was not changed)`,
    )

    for (const f of fillers) rmSync(f, { force: true })
    const reopened = openVault({ dataDir, name: 'default', masterKey: MASTER_KEY })
    expect(reopened.list().map((c) => c.name)).toEqual(['kept'])
    reopened.close()
  })

  it('a write that runs out of space says so, and what was stored before stays', () => {
    const disk = smallDisk() as string
    const dataDir = join(disk, 'data')
    const v = newVault(dataDir)
    v.add(sampleCredential({ name: 'kept', service: 'kept' }))
    const fillers = fill(disk)
    let error: unknown
    try {
      for (let i = 0; i < 200; i++) {
        v.add(
          sampleCredential({ name: `c${i}`, service: `c${i}`, secret: `secret-${i}-${'x'.repeat(4000)}` }),
        )
      }
    } catch (err) {
      error = err
    }
    expect((error as VaultError).message).toMatch(/^Disk is full: cannot write /)
    for (const f of fillers) rmSync(f, { force: true })
    expect(v.list().map((c) => c.name)).toContain('kept')
    v.close()
  })

  it('a read-only mount is reported as read-only, never as a corrupted database', () => {
    const disk = smallDisk() as string
    const dataDir = join(disk, 'data')
    const v = newVault(dataDir)
    v.add(sampleCredential({ name: 'kept', service: 'kept' }))
    v.close()
    execFileSync('mount', ['-o', 'remount,ro', disk])
    let error: unknown
    try {
      openVault({ dataDir, name: 'default', masterKey: MASTER_KEY }).close()
    } catch (err) {
      error = err
    }
    execFileSync('mount', ['-o', 'remount,rw', disk])
    expect((error as VaultError).message).toBe(
      `Database is read-only: ${join(dataDir, 'vaults', 'default.db')} (its folder or disk does not allow writing)`,
    )
  })
})
