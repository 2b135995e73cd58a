/**
 * The one judgement of a config file that holds a secret (the master key, a webhook signing secret,
 * the metrics token, a database or Redis password) while other users can read it: a failure, for
 * `aegis doctor` and `aegis config validate` alike. Another local user (an agent run under its own
 * account) could read the secret and use it: the master key opens the vault, a webhook secret signs
 * forged events. @aegis/config finds them (`source.warnings`); this decides what they are.
 */
import type { AegisConfig } from '@aegis/config'

/** What the config file exposes to group/others, with the chmod that ends it, or null. */
export function configExposure(config: AegisConfig): string | null {
  const found = config.source.warnings
  return found.length === 0 ? null : found.join('; ')
}
