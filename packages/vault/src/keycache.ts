import { createHmac } from 'node:crypto'
import { deriveKeySync } from './crypto.js'

const MAX_ENTRIES = 32
const cache = new Map<string, Buffer>()

/**
 * Derives the vault key at most once per process for a given (master key, salt, iterations).
 * The cache is indexed by an HMAC of the master key under the salt, so the master key string
 * itself is never retained.
 */
export function cachedVaultKey(masterKey: string, salt: Buffer, iterations: number): Buffer {
  const id = `${iterations}:${createHmac('sha256', salt).update(masterKey, 'utf8').digest('hex')}`
  const hit = cache.get(id)
  if (hit) return hit
  const key = deriveKeySync(masterKey, salt, iterations)
  if (cache.size >= MAX_ENTRIES) {
    const oldest = cache.keys().next().value
    if (oldest !== undefined) cache.delete(oldest)
  }
  cache.set(id, key)
  return key
}

/**
 * Zeroes and drops every cached vault key: a sealed gate must not keep derived keys in memory.
 * Vaults still open on those keys stop working, so close them first.
 */
export function forgetVaultKeys(): void {
  for (const key of cache.values()) key.fill(0)
  cache.clear()
}
