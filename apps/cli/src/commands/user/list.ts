import type { UserInfo } from '@aegis/access'
import { AegisCommand } from '../../base-command.js'
import { renderTable } from '../../lib/table.js'
import { withUserStore } from '../../lib/user-store.js'

export default class UserList extends AegisCommand<typeof UserList> {
  static override summary =
    'List users and their roles, and when each token was last used (never a token or its hash)'
  static override description =
    "LAST USED is when the user's current token was last presented (a CLI command, the dashboard, a gate's admin " +
    'socket), to the minute; never for a token not used since it was issued.'

  static override examples = ['<%= config.bin %> user list', '<%= config.bin %> user list --json']

  async run(): Promise<UserInfo[]> {
    const users = await this.withStorage((storage) =>
      withUserStore(storage, async (store) => (await store?.listUsers()) ?? []),
    )
    if (users.length === 0) {
      this.log(
        'No users: RBAC is off until the first admin is added (aegis user add --name <name> --role admin)',
      )
    } else {
      this.log(
        renderTable(
          ['NAME', 'ROLE', 'CREATED', 'UPDATED', 'LAST USED'],
          users.map((u) => [u.name, u.role, u.createdAt, u.updatedAt, u.lastUsedAt ?? 'never']),
        ),
      )
    }
    return users
  }
}
