import { type IssuedToken, ROLES } from '@aegis/access'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { actorOf, addFirstUser, issuedTokenLines, withUserStore } from '../../lib/user-store.js'

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

  async run(): Promise<IssuedToken> {
    const actor = actorOf(this.actor)
    const input = { name: this.flags.name, role: this.flags.role }
    const issued = await this.withStorage((storage) =>
      withUserStore(storage, (store) =>
        store === null ? addFirstUser(this.dataDir(), actor, input) : store.addUser(actor, input),
      ),
    )
    this.log(`Added user ${issued.name} (${issued.role})`)
    for (const line of issuedTokenLines(issued)) this.log(line)
    if (actor.kind === 'bootstrap') {
      this.log('RBAC is now on for this data directory: every aegis command needs AEGIS_USER_TOKEN.')
    }
    return issued
  }
}
