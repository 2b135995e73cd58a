import { createHmac } from 'node:crypto'
import { deriveKey, deriveKeySync } from './crypto.js'

const MAX_ENTRIES = 32
const cache = new Map<string, Buffer>()
/** Derivations started ahead (`prepareVaultKey`) and not finished, by cache id. */
const pending = new Map<string, Promise<void>>()
/** Bumped by `forgetVaultKeys`: a derivation started before it must not fill the cache after it. */
let generation = 0

/**
 * The cache is indexed by an HMAC of the master key under the salt, so the master key string
 * itself is never retained.
 */
function cacheId(masterKey: string, salt: Buffer, iterations: number): string {
  return `${iterations}:${createHmac('sha256', salt).update(masterKey, 'utf8').digest('hex')}`
}

function remember(id: string, key: Buffer): void {
  if (cache.size >= MAX_ENTRIES) {
    const oldest = cache.keys().next().value
    if (oldest !== undefined) cache.delete(oldest)
  }
  cache.set(id, key)
}

/** Derives the vault key at most once per process for a given (master key, salt, iterations). */
export function cachedVaultKey(masterKey: string, salt: Buffer, iterations: number): Buffer {
  const id = cacheId(masterKey, salt, iterations)
  const hit = cache.get(id)
  if (hit) return hit
  const key = deriveKeySync(masterKey, salt, iterations)
  remember(id, key)
  return key
}

/**
 * Starts deriving a vault key on libuv's thread pool, so that the `cachedVaultKey` call that needs
 * it finds it ready instead of blocking the thread for ~0.1 s. Resolves when the derivation ended;
 * never rejects: a bad input or a failure leaves the cache as it was, and the later synchronous
 * derivation reports it.
 */
export function prepareVaultKey(masterKey: string, salt: Buffer, iterations: number): Promise<void> {
  let id: string
  try {
    id = cacheId(masterKey, salt, iterations)
  } catch {
    return Promise.resolve()
  }
  if (cache.has(id)) return Promise.resolve()
  const running = pending.get(id)
  if (running !== undefined) return running
  const startedIn = generation
  const derivation = (async () => {
    try {
      const key = await deriveKey(masterKey, salt, iterations)
      if (startedIn !== generation || cache.has(id)) key.fill(0)
      else remember(id, key)
    } catch {
      // Left to the synchronous derivation to report.
    } finally {
      pending.delete(id)
    }
  })()
  pending.set(id, derivation)
  return derivation
}

/**
 * Zeroes and drops every cached vault key: a sealed gate must not keep derived keys in memory.
 * Vaults still open on those keys stop working, so close them first. A derivation still running
 * is discarded when it ends.
 */
export function forgetVaultKeys(): void {
  generation++
  for (const key of cache.values()) key.fill(0)
  cache.clear()
}
