import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach } from 'vitest'
import { createVault, type NewCredential, type Vault, VaultError, type VaultErrorCode } from '../src/index.js'

export const MASTER_KEY = 'test-master-key-0123456789abcdefghijklmnop'
/** A fixed salt keeps most tests to one key derivation (the KDF costs ~0.2 s per key/salt pair). */
export const TEST_SALT = Buffer.alloc(32, 7)

const dirs: string[] = []
const open: Vault[] = []

afterEach(() => {
  for (const v of open.splice(0)) v.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A fresh data dir (inside a temp dir, so the data dir itself does not exist yet). */
export function tempDataDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'aegis-vault-'))
  dirs.push(root)
  return join(root, 'data')
}

/** Registers a vault to be closed after the test. */
export function track<T extends Vault>(vault: T): T {
  open.push(vault)
  return vault
}

export function newVault(dataDir = tempDataDir(), name = 'default', masterKey = MASTER_KEY): Vault {
  return track(createVault({ dataDir, name, masterKey, salt: TEST_SALT }))
}

export function sampleCredential(overrides: Partial<NewCredential> = {}): NewCredential {
  return {
    name: 'slack-bot',
    service: 'slack',
    secret: 'xoxb-super-secret-token-4242',
    domains: ['slack.com', '*.slack.com'],
    ...overrides,
  }
}

/** Every regular file under `dir`, relative path → contents. */
export function snapshotFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile()) out.set(relative(dir, full), readFileSync(full))
    }
  }
  walk(dir)
  return out
}

export function mode(path: string): number {
  return statSync(path).mode & 0o777
}

/** Runs `fn`, expecting a VaultError with `code` (and message, if given); returns the error. */
export function expectVaultError(
  fn: () => unknown,
  code: VaultErrorCode,
  message?: string | RegExp,
): VaultError {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof VaultError)) throw new Error(`expected VaultError ${code}, got ${String(err)}`)
    if (err.code !== code) throw new Error(`expected code ${code}, got ${err.code}: ${err.message}`)
    if (typeof message === 'string' && err.message !== message) {
      throw new Error(`expected message ${JSON.stringify(message)}, got ${JSON.stringify(err.message)}`)
    }
    if (message instanceof RegExp && !message.test(err.message)) {
      throw new Error(`expected message matching ${message}, got ${JSON.stringify(err.message)}`)
    }
    return err
  }
  throw new Error(`expected VaultError ${code}, but nothing was thrown`)
}
