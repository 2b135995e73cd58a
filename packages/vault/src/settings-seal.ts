import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The columns of a credential row that decide where and how its secret is sent: every one is
 * covered by the row's seal. The secret has its own binding (its AEAD context names vault and row);
 * the timestamps other than `expiresAt` are informational and stay unsealed.
 */
export interface SealedSettings {
  id: string
  name: string
  service: string
  domains: string
  authType: string
  headerName: string | null
  queryParam: string | null
  scopes: string
  expiresAt: string | null
  rateLimit: string | null
  bodyInspection: string
}

/** Label and version of the canonical encoding: a change of either makes every old seal fail. */
const ENCODING = 'aegis-credential-settings-v1'

/**
 * The bytes a seal authenticates: one JSON array of the label, the vault and the settings in a fixed
 * order. Values keep their stored types (a number where text belongs encodes differently), so any
 * change to a column — its text, its type, NULL for a value — is a different encoding.
 */
function canonical(vaultName: string, s: SealedSettings): Buffer {
  return Buffer.from(
    JSON.stringify([
      ENCODING,
      vaultName,
      s.id,
      s.name,
      s.service,
      s.domains,
      s.authType,
      s.headerName,
      s.queryParam,
      s.scopes,
      s.expiresAt,
      s.rateLimit,
      s.bodyInspection,
    ]),
    'utf8',
  )
}

/** HMAC-SHA-256 of the row's settings, bound to its vault, under the settings subkey. */
export function sealSettings(sealKey: Buffer, vaultName: string, settings: SealedSettings): Buffer {
  return createHmac('sha256', sealKey).update(canonical(vaultName, settings)).digest()
}

/** True when `seal` is the one `sealSettings` makes for these settings now (constant time). */
export function settingsMatchSeal(
  sealKey: Buffer,
  vaultName: string,
  settings: SealedSettings,
  seal: unknown,
): boolean {
  if (!Buffer.isBuffer(seal)) return false
  const expected = sealSettings(sealKey, vaultName, settings)
  return seal.length === expected.length && timingSafeEqual(seal, expected)
}

/** Why a row whose settings fail their seal is refused (one line, without the name). */
export const SEAL_MISMATCH =
  'has settings that do not match their seal: they were changed outside Aegis (or the row was copied from another vault)'
