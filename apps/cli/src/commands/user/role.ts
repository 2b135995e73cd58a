import { ROLES, type UserInfo } from '@aegis/access'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { actorOf, holding, withUserStore } from '../../lib/user-store.js'

export default class UserRole extends AegisCommand<typeof UserRole> {
  static override summary = "Change a user's role (the last admin cannot be demoted)"
  static override examples = ['<%= config.bin %> user role --name alice --role admin']
  static override flags = {
    name: Flags.string({ description: 'User name', required: true }),
    role: Flags.string({ description: 'The new role', options: [...ROLES], required: true }),
  }

  async run(): Promise<UserInfo> {
    const actor = actorOf(this.actor)
    const { name, role } = this.flags
    const user = await this.withStorage((storage) =>
      withUserStore(storage, (store) => holding(store, name).setRole(actor, { name, role })),
    )
    this.log(`User ${user.name} is now ${user.role}`)
    return user
  }
}
