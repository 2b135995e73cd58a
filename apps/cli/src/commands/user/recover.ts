import { BOOTSTRAP } from '@aegis/access'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { CliError } from '../../lib/errors.js'
import { rbacOnSince } from '../../lib/rbac-bootstrap.js'
import { addFirstUser, printToken, withUserStore } from '../../lib/user-store.js'

export default class UserRecover extends AegisCommand<typeof UserRecover> {
  static override summary = 'Add a new first admin when access.db was lost (needs the master key)'
  static override description =
    'For a data directory whose RBAC is on but whose access.db was deleted, emptied or replaced (every ' +
    'command then refuses to run): proves the master key by opening the active vault, then adds an ' +
    'admin to an empty user store and prints their token (once). Refused while access.db holds users.'
  static override examples = ['$ AEGIS_MASTER_KEY=… <%= config.bin %> user recover --name admin']
  static override flags = {
    name: Flags.string({ description: 'Name of the new admin', required: true }),
  }

  protected override readonly recoversLostUsers = true

  async run(): Promise<undefined> {
    const config = this.loadAegisConfig()
    if (config.storage.postgres.url !== undefined) {
      throw new CliError(
        'user recover is for a SQLite data directory; PostgreSQL keeps its users in the database',
      )
    }
    // Opening the vault is the proof: a wrong or missing key stops here, with its own error. Its
    // sealed state says whether RBAC was ever on (a hint stripped with access.db changes nothing).
    const vault = await this.openActiveVault()
    let sealedSince: string | null
    try {
      sealedSince = vault.rbacSince() ?? rbacOnSince(config)
    } finally {
      vault.close()
    }
    if (sealedSince === null) {
      throw new CliError(
        'RBAC was never turned on here: add the first admin with aegis user add --name <name> --role admin',
      )
    }
    const input = { name: this.flags.name, role: 'admin' }
    const deliver = printToken(
      this.jsonEnabled(),
      (issued) => `Recovered: added admin ${issued.name}`,
      'no user was added',
    )
    await this.withStorage((storage) =>
      withUserStore(storage, async (store) => {
        if (store === null) return addFirstUser(this.dataDir(), BOOTSTRAP, input, deliver)
        if ((await store.bootstrapCompletedAt()) !== null || (await store.listUsers()).length > 0) {
          throw new CliError(
            `access.db holds users, or says its first user was added: recover only replaces a lost one. Lost the admin token? aegis user regenerate-token; a damaged file: move ${this.dataDir()}/access.db aside, then run this again`,
          )
        }
        return store.addUser(BOOTSTRAP, input, deliver)
      }),
    )
    return undefined
  }
}
