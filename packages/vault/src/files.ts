import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** Suffixes of the files sqlite keeps beside a database. */
export const SIDE_FILES = ['-wal', '-shm', '-journal'] as const

/** Creates `dir` (and parents) with mode 0700 when missing; an existing directory is left as is. */
export function ensurePrivateDir(dir: string): void {
  if (existsSync(dir)) return
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
}

/** `<dataDir>/vaults` */
export function vaultsDir(dataDir: string): string {
  return join(dataDir, 'vaults')
}

/** Registry-relative file name of a vault database. */
export function vaultFileName(name: string): string {
  return `vaults/${name}.db`
}

/** Best-effort fsync of a directory so a rename inside it is durable. */
function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Not supported everywhere (e.g. some network file systems); the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Writes `content` to a new hidden temp file beside `target` with `mode`, fsynced, and returns its
 * path: the first half of every atomic write (the caller renames or links it into place, or removes
 * it). Beside the target so the rename stays on one file system; `wx` so an existing file (a planted
 * symlink) is never followed.
 */
export function stageFile(target: string, content: string, mode: number): string {
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', mode)
  try {
    const data = Buffer.from(content, 'utf8')
    let written = 0
    while (written < data.length) written += writeSync(fd, data, written)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  try {
    // openSync's mode is masked by the umask; chmod sets exactly what was asked.
    chmodSync(tmp, mode)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  return tmp
}

/** Writes `file` atomically with `mode` (default 0600): staged temp file, rename, fsync of the directory. */
export function writeFileAtomic(file: string, content: string, mode = 0o600): void {
  const tmp = stageFile(file, content, mode)
  try {
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  fsyncDir(dirname(file))
}

/** Creates an empty file with mode 0600; fails if it exists. */
export function createPrivateFile(file: string): void {
  closeSync(openSync(file, 'wx', 0o600))
  chmodSync(file, 0o600)
}

/** Sets mode 0600 on a database file and its sqlite side files that exist. */
export function restrictDatabaseFiles(file: string): void {
  for (const f of [file, ...SIDE_FILES.map((s) => file + s)]) {
    try {
      chmodSync(f, 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
}

/** Removes a database file and its side files. */
export function removeDatabaseFiles(file: string): void {
  for (const f of [file, ...SIDE_FILES.map((s) => file + s)]) rmSync(f, { force: true })
}
