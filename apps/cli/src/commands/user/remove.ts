import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { actorOf, holding, withUserStore } from '../../lib/user-store.js'

export default class UserRemove extends AegisCommand<typeof UserRemove> {
  static override summary = 'Remove a user; their token stops working (the last admin cannot be removed)'
  static override examples = ['<%= config.bin %> user remove --name bob --confirm']
  static override flags = {
    name: Flags.string({ description: 'User name', required: true }),
    confirm: Flags.boolean({ description: 'Required: confirms the removal', default: false }),
  }

  async run(): Promise<{ name: string; removed: true }> {
    const actor = actorOf(this.actor)
    const { name, confirm } = this.flags
    if (!confirm) this.fail(`Not removing user "${name}" without --confirm`)
    await this.withStorage((storage) =>
      withUserStore(storage, (store) => holding(store, name).removeUser(actor, { name })),
    )
    this.log(`Removed user ${name}; their token no longer works`)
    return { name, removed: true }
  }
}
