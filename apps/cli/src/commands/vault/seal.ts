import { callAdmin } from '@aegis/proxy/internal'
import { requireCustody, unsealedKeyPath, wipeUnsealedKey } from '@aegis/vault'
import { AegisCommand } from '../../base-command.js'
import { checked, liveGates, userToken } from '../../lib/custody.js'

/** `aegis vault seal --json` */
export interface SealOutput {
  sealed: true
  /** True when `<data_dir>/unsealed.key` was there and has been overwritten and removed. */
  unsealedKeyRemoved: boolean
  /** Running gates told to seal (each wiped its in-memory key). */
  gatesSealed: number
  /**
   * PostgreSQL: the deployment's sealed state was set, so every gate on the database (other hosts
   * included) seals within a second. False on SQLite.
   */
  sharedSealed: boolean
}

export default class VaultSeal extends AegisCommand<typeof VaultSeal> {
  static override summary = 'Seal the vault: remove unsealed.key and make running gates forget the key'
  static override description =
    'Overwrites and deletes <data_dir>/unsealed.key, and tells every running gate of this data dir (over its ' +
    'admin socket) to wipe its in-memory key and refuse requests with 503 sealed. On PostgreSQL it also seals ' +
    'the deployment: every gate on the database, on any host, seals within a second.'
  static override examples = ['<%= config.bin %> vault seal']

  async run(): Promise<SealOutput> {
    const dataDir = this.dataDir()
    requireCustody(dataDir)
    const unsealedKeyRemoved = wipeUnsealedKey(dataDir)
    // First: the gates on other hosts are the ones this command cannot reach otherwise.
    const sharedSealed = await this.withStorage(async (storage) => {
      if (storage.pool === undefined) return false
      const { writeSealState } = await import('@aegis/pg')
      await writeSealState(storage.pool, true, this.actor?.kind === 'user' ? this.actor.name : null)
      return true
    })
    let gatesSealed = 0
    for (const gate of await liveGates(dataDir)) {
      checked(
        await callAdmin(gate.socket, { method: 'POST', path: '/seal', token: userToken() }),
        gate.socket,
      )
      gatesSealed++
    }
    this.log(
      unsealedKeyRemoved
        ? `Removed ${unsealedKeyPath(dataDir)} (overwritten, then deleted).`
        : 'No unsealed.key to remove.',
    )
    this.log(
      gatesSealed === 0
        ? 'No running gate to seal.'
        : `Sealed ${gatesSealed} running gate${gatesSealed === 1 ? '' : 's'}: they refuse requests (503 sealed) until unsealed.`,
    )
    if (sharedSealed) {
      this.log(
        'Sealed in PostgreSQL: every gate on this database seals within a second (each needs aegis vault unseal on its host, or a restart with the key).',
      )
    }
    this.log('The vault is sealed.')
    return { sealed: true, unsealedKeyRemoved, gatesSealed, sharedSealed }
  }
}
