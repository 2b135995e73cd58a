import { join } from 'node:path'

/** The audit ledger lives beside the vaults: `<data_dir>/ledger.db`. */
export function ledgerPath(dataDir: string): string {
  return join(dataDir, 'ledger.db')
}
