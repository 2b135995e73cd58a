import { createCipheriv, createDecipheriv, hkdfSync, pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto'
import { VaultError } from './errors.js'

/** PBKDF2-HMAC-SHA512 parameters used for new vaults (OWASP 2023 minimum for SHA-512). */
export const KDF = { name: 'pbkdf2-sha512', digest: 'sha512', iterations: 210_000, keyLength: 32 } as const
/** Bytes of random salt generated for each vault. */
export const SALT_BYTES = 32
/** First byte of every envelope produced by `seal`. */
export const ENVELOPE_VERSION = 1

const NONCE_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 1 + NONCE_BYTES + TAG_BYTES

function checkKdfInput(masterKey: string, salt: Buffer, iterations: number): void {
  if (typeof masterKey !== 'string' || masterKey.length === 0) {
    throw new VaultError('invalid_input', 'masterKey must be a non-empty string')
  }
  if (!Buffer.isBuffer(salt) || salt.length < 16) {
    throw new VaultError('invalid_input', 'salt must be at least 16 bytes')
  }
  if (!Number.isSafeInteger(iterations) || iterations < KDF.iterations) {
    throw new VaultError('invalid_input', `KDF iterations must be an integer >= ${KDF.iterations}`)
  }
}

/** Derives a 256-bit key from the master key and salt (PBKDF2-HMAC-SHA512), off the main thread. */
export function deriveKey(
  masterKey: string,
  salt: Buffer,
  iterations: number = KDF.iterations,
): Promise<Buffer> {
  checkKdfInput(masterKey, salt, iterations)
  return new Promise((resolve, reject) => {
    pbkdf2(masterKey, salt, iterations, KDF.keyLength, KDF.digest, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

/** Synchronous `deriveKey` (blocks for about 0.2 s at the default iteration count). */
export function deriveKeySync(masterKey: string, salt: Buffer, iterations: number = KDF.iterations): Buffer {
  checkKdfInput(masterKey, salt, iterations)
  return pbkdf2Sync(masterKey, salt, iterations, KDF.keyLength, KDF.digest)
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KDF.keyLength) {
    throw new VaultError('invalid_input', 'encryption key must be 32 bytes')
  }
}

/** The GCM additional data: the envelope version byte followed by the caller's context string. */
function aadFor(context: string): Buffer {
  return Buffer.concat([Buffer.of(ENVELOPE_VERSION), Buffer.from(context, 'utf8')])
}

/**
 * Encrypts `plaintext` with AES-256-GCM under a fresh random 96-bit nonce, binding it to
 * `context` (additional authenticated data). Returns the envelope
 * `version (1) ‖ nonce (12) ‖ tag (16) ‖ ciphertext`.
 */
export function seal(key: Buffer, plaintext: Buffer | string, context: string): Buffer {
  checkKey(key)
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(aadFor(context))
  const body = Buffer.concat([
    cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext),
    cipher.final(),
  ])
  return Buffer.concat([Buffer.of(ENVELOPE_VERSION), nonce, cipher.getAuthTag(), body])
}

/**
 * Decrypts an envelope made by `seal` with the same key and context. Throws a `VaultError`
 * (code `corrupt`) when the envelope is malformed, of an unknown version, or fails authentication
 * (wrong key, wrong context, or any modified byte).
 */
export function open(key: Buffer, envelope: Buffer, context: string): Buffer {
  checkKey(key)
  if (!Buffer.isBuffer(envelope) || envelope.length < HEADER_BYTES) {
    throw new VaultError('corrupt', 'Encrypted value is truncated')
  }
  if (envelope[0] !== ENVELOPE_VERSION) {
    throw new VaultError('corrupt', `Encrypted value has unsupported format version ${envelope[0]}`)
  }
  const nonce = envelope.subarray(1, 1 + NONCE_BYTES)
  const tag = envelope.subarray(1 + NONCE_BYTES, HEADER_BYTES)
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
  decipher.setAAD(aadFor(context))
  decipher.setAuthTag(tag)
  try {
    return Buffer.concat([decipher.update(envelope.subarray(HEADER_BYTES)), decipher.final()])
  } catch {
    throw new VaultError('corrupt', 'Encrypted value failed authentication')
  }
}

/** AAD context for a credential's secret: binds the ciphertext to its vault and row. */
export function credentialContext(vaultName: string, credentialId: string): string {
  return `aegis:v1:${vaultName}:credential:${credentialId}`
}

/** AAD context for a secret the vault keeps for someone else (a webhook signing secret): binds it to its vault and purpose. */
export function sealedSecretContext(vaultName: string, purpose: string): string {
  return `aegis:v1:${vaultName}:sealed:${purpose}`
}

/** AAD context for the key-check value of a format-1 vault (before credential settings were sealed). */
export function keyCheckContext(vaultName: string): string {
  return `aegis:v1:${vaultName}:key-check`
}

/** AAD context for the sealed state of a format-2 vault (its key check: see `VaultState`). */
export function vaultStateContext(vaultName: string): string {
  return `aegis:v2:${vaultName}:state`
}

/** HKDF `info` of the subkey that seals credential settings: never the encryption key itself. */
const SETTINGS_SEAL_INFO = 'aegis:v1:credential-settings-seal'

/**
 * The 256-bit HMAC key that sealed rows at formats 2 and 3 (read only to upgrade), derived from the vault key with
 * HKDF-SHA-256 under its own label, so a seal and an envelope never share a key.
 */
export function settingsSealKey(key: Buffer): Buffer {
  checkKey(key)
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), SETTINGS_SEAL_INFO, KDF.keyLength))
}

/** HKDF `info` of the subkey that sealed rows and row sets at format 4. */
const FORMAT4_ROW_SEAL_INFO = 'aegis:v4:row-seal'

/**
 * The HMAC key of row seals and row-set MACs at format 4 (read only to upgrade). A different
 * subkey from the one of formats 2 and 3 (`settingsSealKey`).
 */
export function format4RowSealKey(key: Buffer): Buffer {
  checkKey(key)
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), FORMAT4_ROW_SEAL_INFO, KDF.keyLength))
}

/** HKDF `info` of the subkey that seals rows and row sets from format 5 on. */
const ROW_SEAL_INFO = 'aegis:v5:row-seal'

/**
 * The HMAC key of row seals and row-set MACs at format 5. A different subkey from the one of every
 * older format, so rows written at 5 fail the seals (and the sets) of an older key check put back.
 */
export function rowSealKey(key: Buffer): Buffer {
  checkKey(key)
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), ROW_SEAL_INFO, KDF.keyLength))
}

/** The known plaintext sealed as the key-check value. */
export const KEY_CHECK_PLAINTEXT = 'aegis-vault-key-check-v1'

/** A new random 32-byte salt. */
export function generateSalt(): Buffer {
  return randomBytes(SALT_BYTES)
}

/** A new random 256-bit master key, base64url encoded (43 characters). */
export function generateMasterKey(): string {
  return randomBytes(32).toString('base64url')
}
