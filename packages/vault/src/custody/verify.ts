import { openVault } from '../manage.js'
import { readRegistry } from '../registry.js'
import { CustodyError } from './errors.js'

/**
 * Opens (and closes) every vault of the data dir with `masterKey`: the data dir has one master
 * key, and a split or an unseal that left one vault unreadable would lock it out unnoticed.
 */
export function assertOpensEveryVault(dataDir: string, masterKey: string): void {
  for (const { name } of readRegistry(dataDir).vaults) {
    try {
      openVault({ dataDir, name, masterKey }).close()
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'invalid_master_key') throw err
      throw new CustodyError(
        'key_check_failed',
        `Invalid master key: the key does not open vault "${name}" (every vault of a data dir must share one master key)`,
      )
    }
  }
}
