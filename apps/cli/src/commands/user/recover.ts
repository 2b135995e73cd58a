import { BOOTSTRAP } from '@aegis/access'
import { acceptShares, openVault, readCustody, rebuildKey, type Vault } from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { collectShares } from '../../lib/custody.js'
import { CliError } from '../../lib/errors.js'
import { rbacOnSince } from '../../lib/rbac-bootstrap.js'
import { configuredSalt, saltOption } from '../../lib/salt.js'
import { addFirstUser, printToken, withUserStore } from '../../lib/user-store.js'

export default class UserRecover extends AegisCommand<typeof UserRecover> {
  static override summary = 'Add a new first admin when access.db was lost (needs the master key)'
  static override description =
    'For a data directory whose RBAC is on but whose access.db was deleted, emptied or replaced (every ' +
    'command then refuses to run): proves the master key by opening the active vault, then adds an ' +
    'admin to an empty user store and prints their token (once). Refused while access.db holds users. ' +
    'A split key is proven with its key shares (--key-share), since vault unseal needs an admin too.'
  static override examples = [
    '$ AEGIS_MASTER_KEY=… <%= config.bin %> user recover --name admin',
    '<%= config.bin %> user recover --name admin --key-share - < shares.txt   # a split key: threshold shares, one per line',
  ]
  static override flags = {
    name: Flags.string({ description: 'Name of the new admin', required: true }),
    'key-share': Flags.string({
      description:
        'A key share of the split key, instead of the key itself; repeat it, or pass - to read shares from stdin, one per line',
      multiple: true,
    }),
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
    const shares = this.flags['key-share']
    const vault = shares === undefined ? await this.#openWithKey() : await this.#openWithShares(shares)
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

  /** The active vault with the key at hand; a split key without one points at --key-share. */
  async #openWithKey(): Promise<Vault> {
    const custody = process.env.AEGIS_MASTER_KEY ? null : readCustody(this.dataDir())
    try {
      return await this.openActiveVault()
    } catch (error) {
      if (custody === null || !(error instanceof CliError) || !error.message.startsWith('Vault is sealed'))
        throw error
      throw new CliError(
        `Vault is sealed, and vault unseal needs an admin: prove the key with ${custody.threshold} of its ${custody.shares} key shares instead (aegis user recover --name ${this.flags.name} --key-share - < shares.txt)`,
      )
    }
  }

  /** The active vault opened with the key the shares rebuild (proven against the key check first). */
  async #openWithShares(values: string[]): Promise<Vault> {
    const dataDir = this.dataDir()
    const custody = readCustody(dataDir)
    if (custody === null) {
      throw new CliError(
        '--key-share: the master key is not split into shares here; set AEGIS_MASTER_KEY instead',
      )
    }
    const key = await rebuildKey(acceptShares(await collectShares(values, process.stdin), custody), custody)
    try {
      return openVault({
        dataDir,
        name: this.activeVaultName(),
        masterKey: key.toString('utf8'),
        ...saltOption(configuredSalt(this.loadAegisConfig())),
      })
    } finally {
      key.fill(0)
    }
  }
}
