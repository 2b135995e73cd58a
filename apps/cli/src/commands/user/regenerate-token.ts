import type { IssuedToken } from '@aegis/access'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { actorOf, holding, issuedTokenLines, withUserStore } from '../../lib/user-store.js'

export default class UserRegenerateToken extends AegisCommand<typeof UserRegenerateToken> {
  static override summary = 'Issue a new token for a user; the old one stops working at once'
  static override examples = ['<%= config.bin %> user regenerate-token --name alice']
  static override flags = {
    name: Flags.string({ description: 'User name', required: true }),
  }

  async run(): Promise<IssuedToken> {
    const actor = actorOf(this.actor)
    const { name } = this.flags
    const issued = await this.withStorage((storage) =>
      withUserStore(storage, (store) => holding(store, name).regenerateToken(actor, { name })),
    )
    this.log(`New token for ${issued.name} (${issued.role}); the old one no longer works`)
    for (const line of issuedTokenLines(issued)) this.log(line)
    return issued
  }
}
