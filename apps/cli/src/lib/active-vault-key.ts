import { loadConfig } from '@aegis/config'
import { prepareVault } from '@aegis/vault/prepare'

/**
 * Starts deriving the key of the vault the config makes active (`prepareVault`), as a command run
 * with that `--config` in `cwd` would open it. Loaded by `key-prefetch.ts` only for the commands
 * that open it, so no other command pays for loading the config this early. Throws what loading the
 * config throws; resolves undefined when there is nothing to derive (no key, PostgreSQL storage).
 */
export function prepareActiveVault(
  configFlag: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<void> | undefined {
  const config = loadConfig({ cwd, env, file: configFlag })
  const masterKey = config.vault.master_key
  if (masterKey === undefined || config.storage.postgres.url !== undefined) return undefined
  return prepareVault({ dataDir: config.vault.data_dir, name: config.vault.name, masterKey })
}
