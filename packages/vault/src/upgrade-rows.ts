import type { VaultCipher } from './cipher.js'
import type { SealedAgent, SealedGrant, SealedSettings } from './settings-seal.js'
import { CREDENTIALS_SEALED_FORMAT, LEGACY_FORMAT } from './vault-format.js'

// The seal a row gets when its vault is upgraded to the current format, shared by both engines.

type Row =
  | { kind: 'credential'; row: SealedSettings }
  | { kind: 'agent'; row: SealedAgent }
  | { kind: 'grant'; row: SealedGrant }

/** Whether the format `from` had no seal for rows of this kind (they are sealed as they are). */
function unsealedAt(kind: Row['kind'], from: string): boolean {
  return from === LEGACY_FORMAT || (kind !== 'credential' && from === CREDENTIALS_SEALED_FORMAT)
}

/**
 * The row's seal at the current format, or null to leave it as it is (it then fails its seal):
 * a row the old format did not seal (seal NULL) is sealed as it is; a sealed row only when its
 * old seal holds. A row sealed by a newer format (an older key check put back over newer rows)
 * or edited outside Aegis is never given a valid seal.
 */
export function upgradedSeal(cipher: VaultCipher, from: string, row: Row, seal: unknown): Buffer | null {
  const asItIs = seal === null && unsealedAt(row.kind, from)
  if (!asItIs && !cipher.matchesFormerSeal(row, seal)) return null
  if (row.kind === 'credential') return cipher.sealSettings(row.row)
  if (row.kind === 'agent') return cipher.sealAgent(row.row)
  return cipher.sealGrant(row.row)
}
