import { resolve } from 'node:path'
import { KDF } from './crypto.js'
import { prepareVaultKey } from './keycache.js'
import { readRegistry } from './registry.js'

export interface PrepareVaultOptions {
  dataDir: string
  name: string
  masterKey: string
}

/**
 * Starts deriving the key of an existing vault on libuv's thread pool (PBKDF2, ~0.1 s of CPU), so
 * that a later `openVault` with the same master key finds it ready instead of blocking the event
 * loop: a host calls this as early as it knows the vault and the key, and loads the rest of itself
 * meanwhile. Only ever a head start: it resolves when the derivation ended and never rejects; an
 * unknown vault, a malformed registry or a wrong key is for `openVault` to report (a wrong key
 * simply derives a key nothing uses). Vaults of the current KDF strength only.
 */
export function prepareVault(opts: PrepareVaultOptions): Promise<void> {
  let salt: Buffer
  try {
    const entry = readRegistry(resolve(opts.dataDir)).vaults.find((v) => v.name === opts.name)
    if (entry === undefined) return Promise.resolve()
    salt = Buffer.from(entry.salt, 'hex')
  } catch {
    return Promise.resolve()
  }
  return prepareVaultKey(opts.masterKey, salt, KDF.iterations)
}
