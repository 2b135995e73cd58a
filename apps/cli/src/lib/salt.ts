import type { AegisConfig } from '@aegis/config'
import { saltFromText } from '@aegis/vault'

/**
 * The salt `vault.salt` / AEGIS_SALT gives (`saltFromText`): new vaults are created
 * with it, and an existing vault must have been (the vault refuses another, naming it).
 */
export function configuredSalt(config: Pick<AegisConfig, 'vault'>): Buffer | undefined {
  return config.vault.salt === undefined ? undefined : saltFromText(config.vault.salt)
}

/** `{ salt }` when one is configured, else nothing (for the vault options). */
export function saltOption(salt: Buffer | undefined): { salt?: Buffer } {
  return salt === undefined ? {} : { salt }
}
