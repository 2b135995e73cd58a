import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { actorOf, holding, printToken, withUserStore } from '../../lib/user-store.js'

export default class UserRegenerateToken extends AegisCommand<typeof UserRegenerateToken> {
  static override summary = 'Issue a new token for a user; the old one stops working at once'
  static override examples = ['<%= config.bin %> user regenerate-token --name alice']
  static override flags = {
    name: Flags.string({ description: 'User name', required: true }),
  }

  async run(): Promise<undefined> {
    const actor = actorOf(this.actor)
    const { name } = this.flags
    // Printed before the new token replaces the old one (see user add).
    const deliver = printToken(
      this.jsonEnabled(),
      (issued) => `New token for ${issued.name} (${issued.role}); the old one no longer works`,
      'the old token still works',
    )
    await this.withStorage((storage) =>
      withUserStore(storage, (store) => holding(store, name).regenerateToken(actor, { name }, deliver)),
    )
    return undefined
  }
}
