import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import lockfile from 'proper-lockfile'
import { VaultError } from './errors.js'
import { ensurePrivateDir, vaultFileName, writeFileAtomic } from './files.js'

/** One vault as recorded in `<dataDir>/vaults.json`. */
export interface RegistryEntry {
  name: string
  /** Relative to the data directory: `vaults/<name>.db`. */
  file: string
  /** Hex-encoded KDF salt. */
  salt: string
  createdAt: string
}

export interface Registry {
  version: 1
  vaults: RegistryEntry[]
}

const VAULT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/
const HEX_SALT = /^(?:[0-9a-f]{2}){16,64}$/

export function registryPath(dataDir: string): string {
  return join(dataDir, 'vaults.json')
}

function corrupt(file: string, reason: string): VaultError {
  return new VaultError('corrupt', `${file} is corrupt: ${reason}`)
}

function parseEntry(value: unknown, index: number, file: string): RegistryEntry {
  if (typeof value !== 'object' || value === null) throw corrupt(file, `vaults[${index}] is not an object`)
  const { name, file: dbFile, salt, createdAt } = value as Record<string, unknown>
  if (typeof name !== 'string' || !VAULT_NAME.test(name))
    throw corrupt(file, `vaults[${index}].name is invalid`)
  if (dbFile !== vaultFileName(name))
    throw corrupt(file, `vaults[${index}].file must be "${vaultFileName(name)}"`)
  if (typeof salt !== 'string' || !HEX_SALT.test(salt))
    throw corrupt(file, `vaults[${index}].salt is not hex`)
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) {
    throw corrupt(file, `vaults[${index}].createdAt is not a date`)
  }
  return { name, file: dbFile, salt, createdAt }
}

/** Reads the registry; a missing file is an empty registry, anything malformed is `corrupt`. */
export function readRegistry(dataDir: string): Registry {
  const file = registryPath(dataDir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { version: 1, vaults: [] }
    throw new VaultError('io', `Cannot read ${file}: ${code ?? 'unknown error'}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw corrupt(file, 'not valid JSON')
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw corrupt(file, 'expected a JSON object')
  const { version, vaults } = doc as Record<string, unknown>
  if (version !== 1) throw corrupt(file, `unsupported version ${JSON.stringify(version)}`)
  if (!Array.isArray(vaults)) throw corrupt(file, '"vaults" is not an array')
  const entries = vaults.map((v, i) => parseEntry(v, i, file))
  const names = new Set<string>()
  for (const entry of entries) {
    if (names.has(entry.name)) throw corrupt(file, `vault "${entry.name}" is listed twice`)
    names.add(entry.name)
  }
  return { version: 1, vaults: entries }
}

/** Writes the registry atomically with mode 0600, creating the data directory (0700) if needed. */
export function writeRegistry(dataDir: string, registry: Registry): void {
  ensurePrivateDir(dataDir)
  const file = registryPath(dataDir)
  try {
    writeFileAtomic(file, `${JSON.stringify(registry, null, 2)}\n`)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new VaultError('io', `Cannot write ${file}: ${code ?? 'unknown error'}`)
  }
}

/** How long a registry change waits for another process's change to finish. */
const LOCK_WAIT_MS = 10_000
/** A lock older than this was left by a process that died holding it, and is taken over. */
const LOCK_STALE_MS = 10_000

/**
 * Runs `change` (read, modify, write of the registry) while holding `vaults.json.lock`, so two
 * processes creating or destroying vaults at the same moment never lose each other's entry. The lock
 * is proper-lockfile's atomic `mkdir`. This waits up to 10 s for another holder, and takes over a
 * lock left by a process that died. Throws `io` when the lock cannot be had.
 */
export function withRegistryLock<T>(dataDir: string, change: () => T): T {
  ensurePrivateDir(dataDir)
  const file = registryPath(dataDir)
  const release = acquire(file)
  try {
    return change()
  } finally {
    release()
  }
}

function acquire(file: string): () => void {
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      return lockfile.lockSync(file, { realpath: false, stale: LOCK_STALE_MS })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ELOCKED') throw new VaultError('io', `Cannot lock ${file}: ${code ?? 'unknown error'}`)
      if (Date.now() > deadline) {
        throw new VaultError('io', `${file} stayed locked by another process for ${LOCK_WAIT_MS / 1000} s`)
      }
      sleep(5 + Math.floor(Math.random() * 20))
    }
  }
}

/** Blocks this thread for `ms` (the vault API is synchronous). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
