import { createHash } from 'node:crypto'
import { generateSalt } from './crypto.js'
import { VaultError } from './errors.js'

/** A salt given for a new vault (16-64 bytes), or a random one when none was given. */
export function checkSalt(salt: Buffer | undefined): Buffer {
  if (salt === undefined) return generateSalt()
  if (!Buffer.isBuffer(salt) || salt.length < 16 || salt.length > 64) {
    throw new VaultError('invalid_input', 'salt must be 16 to 64 bytes')
  }
  return salt
}

/** Refuses a configured salt that is not the one a vault was created with. */
export function assertSameSalt(name: string, stored: Buffer, expected: Buffer | undefined): void {
  if (expected === undefined || stored.equals(expected)) return
  throw new VaultError(
    'invalid_input',
    `The configured salt (AEGIS_SALT / vault.salt) is not the salt vault "${name}" was created with, and a ` +
      "vault keeps its salt for life: unset it for this vault, or set it to the vault's own (vaults.json)",
  )
}

const HEX_SALT = /^(?:[0-9a-fA-F]{2}){16,64}$/

/**
 * The salt a configured text stands for (`vault.salt` / AEGIS_SALT): hex of 16 to 64 bytes, the way
 * vaults.json keeps a vault's salt, is those bytes (so a vault's own salt can be given back); any
 * other text is its SHA-256, so whatever an operator writes is a usable 32-byte salt.
 */
export function saltFromText(text: string): Buffer {
  return HEX_SALT.test(text) ? Buffer.from(text, 'hex') : createHash('sha256').update(text, 'utf8').digest()
}
