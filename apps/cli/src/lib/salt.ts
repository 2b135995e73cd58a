import type { AegisConfig } from '@aegis/config'

/**
 * The salt `vault.salt` / AEGIS_SALT gives (hex, checked by @aegis/config): new vaults are created
 * with it, and an existing vault must have been (the vault refuses another, naming it).
 */
export function configuredSalt(config: Pick<AegisConfig, 'vault'>): Buffer | undefined {
  return config.vault.salt === undefined ? undefined : Buffer.from(config.vault.salt, 'hex')
}

/** `{ salt }` when one is configured, else nothing (for the vault options). */
export function saltOption(salt: Buffer | undefined): { salt?: Buffer } {
  return salt === undefined ? {} : { salt }
}
