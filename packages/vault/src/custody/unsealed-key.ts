import { closeSync, fstatSync, fsyncSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../files.js'
import { CustodyError, readCustodyFile } from './errors.js'
import { passesKeyCheck } from './key-check.js'
import type { CustodyRecord } from './record.js'

const PREFIX = 'aegis-unsealed-v1'

/** `<dataDir>/unsealed.key`: the rebuilt key for CLI commands while the vault is unsealed. */
export function unsealedKeyPath(dataDir: string): string {
  return join(dataDir, 'unsealed.key')
}

/** Writes the key (0600, atomically), tagged with the split it was rebuilt from. */
export function writeUnsealedKey(dataDir: string, custody: CustodyRecord, key: Buffer): void {
  writeFileAtomic(unsealedKeyPath(dataDir), `${PREFIX}.${custody.setId}.${key.toString('base64url')}\n`)
}

/**
 * The key in unsealed.key, proven against the custody key check; null when there is no file. A file
 * of another split (left from before a re-split) or one that fails the check is an error: the CLI
 * must not treat a wrong key as an unsealed vault.
 */
export function readUnsealedKey(dataDir: string, custody: CustodyRecord): Buffer | null {
  const file = unsealedKeyPath(dataDir)
  const text = readCustodyFile(file)
  if (text === null) return null
  const [prefix, setId, data, ...rest] = text.trim().split('.')
  if (prefix !== PREFIX || rest.length > 0 || data === undefined || !/^[A-Za-z0-9_-]+$/.test(data)) {
    throw new CustodyError('corrupt', `${file} is not an unsealed key written by aegis vault unseal`)
  }
  if (setId !== custody.setId) {
    throw new CustodyError(
      'key_check_failed',
      `${file} holds the key of an earlier split (${setId}), not of the current split ${custody.setId}`,
    )
  }
  const key = Buffer.from(data, 'base64url')
  if (!passesKeyCheck(key, custody.keyCheck)) {
    key.fill(0)
    throw new CustodyError('key_check_failed', `${file} fails the key check of split ${custody.setId}`)
  }
  return key
}

/**
 * Overwrites unsealed.key with zeros (fsynced), then unlinks it; false when there was none. The
 * overwrite is best effort against recovery from the disk: journaling or copy-on-write file
 * systems and SSD wear levelling may keep old blocks, which is why the file exists only while unsealed.
 * A staged copy left by a process killed between writing and renaming it (`.unsealed.key.<hex>.tmp`,
 * see `stageFile`) holds the key too, and is wiped the same way.
 */
export function wipeUnsealedKey(dataDir: string): boolean {
  for (const name of leftovers(dataDir)) wipeFile(join(dataDir, name))
  return wipeFile(unsealedKeyPath(dataDir))
}

const LEFTOVER = /^\.unsealed\.key\.[0-9a-f]+\.tmp$/

function leftovers(dataDir: string): string[] {
  try {
    return readdirSync(dataDir).filter((name) => LEFTOVER.test(name))
  } catch {
    return []
  }
}

/** Zeroes `file` (fsynced) and unlinks it; false when it was not there. */
function wipeFile(file: string): boolean {
  let fd: number
  try {
    fd = openSync(file, 'r+')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new CustodyError('corrupt', `Cannot open ${file}: ${(err as NodeJS.ErrnoException).code}`)
  }
  try {
    const zeros = Buffer.alloc(fstatSync(fd).size)
    let written = 0
    while (written < zeros.length) written += writeSync(fd, zeros, written, zeros.length - written, written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  rmSync(file, { force: true })
  return true
}
