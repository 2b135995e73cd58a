import lockfile from 'proper-lockfile'
import { VaultError } from './errors.js'
import { ensurePrivateDir, writeFileAtomic } from './files.js'
import { type Registry, registryPath } from './registry.js'

// Changes to `<dataDir>/vaults.json`. Apart from reading it (registry.ts), so that what only reads
// the registry (`prepareVault`) loads no lock library.

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
