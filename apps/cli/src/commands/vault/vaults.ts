import { AegisCommand } from '../../base-command.js'
import { renderTable } from '../../lib/table.js'

/** One row of `vault vaults --json`. */
export interface VaultJson {
  name: string
  active: boolean
  file: string
  createdAt: string
  credentials?: number
}

export default class VaultVaults extends AegisCommand<typeof VaultVaults> {
  static override summary = 'List the vaults in the data directory'
  static override examples = ['<%= config.bin %> vault vaults', '<%= config.bin %> vault vaults --json']

  async run(): Promise<VaultJson[]> {
    const active = this.activeVaultName()
    const { where, found } = await this.withStorage(async (storage) => ({
      where: storage.where,
      found: await storage.listVaults(),
    }))
    const vaults: VaultJson[] = found.map((v) => ({
      name: v.name,
      active: v.name === active,
      file: v.file,
      createdAt: v.createdAt,
      ...(v.credentials !== undefined && { credentials: v.credentials }),
    }))
    if (vaults.length === 0) {
      this.log(`No vaults in ${where}. Create one with: aegis init`)
    } else {
      this.log(
        renderTable(
          ['', 'NAME', 'CREDENTIALS', 'CREATED'],
          vaults.map((v) => [
            v.active ? '*' : '',
            v.name,
            v.credentials === undefined ? '?' : String(v.credentials),
            v.createdAt.slice(0, 10),
          ]),
        ),
      )
    }
    return vaults
  }
}
