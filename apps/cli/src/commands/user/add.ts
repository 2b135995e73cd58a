import { ROLES } from '@aegis/access'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { recordRbacOn } from '../../lib/rbac-bootstrap.js'
import { actorOf, addFirstUser, printToken, withUserStore } from '../../lib/user-store.js'

export default class UserAdd extends AegisCommand<typeof UserAdd> {
  static override summary = 'Add an operator (user) with a role and print their token (once)'
  static override description =
    'The first user must be an admin; adding it turns RBAC on for this data directory for good: from ' +
    'then on every command needs AEGIS_USER_TOKEN. Only the SHA-256 hash of the token is stored.'
  static override examples = [
    '<%= config.bin %> user add --name admin --role admin',
    '<%= config.bin %> user add --name alice --role operator --json',
  ]
  static override flags = {
    name: Flags.string({ description: 'Unique user name (letters, digits, ._@-; up to 64)', required: true }),
    role: Flags.string({ description: 'The role', options: [...ROLES], required: true }),
  }

  async run(): Promise<undefined> {
    const actor = actorOf(this.actor)
    const input = { name: this.flags.name, role: this.flags.role }
    // Printed before the user is committed: a token nobody saw is never issued (a first admin whose
    // token was lost would lock RBAC for good).
    const deliver = printToken(
      this.jsonEnabled(),
      (issued) => `Added user ${issued.name} (${issued.role})`,
      `no user was added${actor.kind === 'bootstrap' ? ', and RBAC is still off' : ''}`,
    )
    await this.withStorage((storage) =>
      withUserStore(storage, (store) =>
        store === null
          ? addFirstUser(this.dataDir(), actor, input, deliver)
          : store.addUser(actor, input, deliver),
      ),
    )
    if (actor.kind === 'bootstrap') {
      // Kept sealed in the vault too, so a deleted or emptied access.db does not turn RBAC off.
      recordRbacOn(this.loadAegisConfig())
      this.log('RBAC is now on for this data directory: every aegis command needs AEGIS_USER_TOKEN.')
    }
    // Printed above already (with --json, the one document).
    return undefined
  }
}
