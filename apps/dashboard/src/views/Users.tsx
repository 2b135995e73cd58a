import type { Api } from '../api/client.js'
import type { Actor, Role, UserItem } from '../api/types.js'
import { EmptyRow, ErrorBox, Loading, PageTitle } from '../components/ui.js'
import { localDateTime } from '../lib/format.js'
import { type Can, mayDo, ROLE_CHOICES } from '../lib/permissions.js'
import { type Ask, useConfirm } from '../lib/use-confirm.js'
import { useResource } from '../lib/use-resource.js'

const cell = 'px-2 py-2 align-top'

export function UsersTable({
  items,
  actor,
  can,
  onRole,
  onRemove,
}: {
  items: readonly UserItem[]
  actor: Actor
  can: Can
  onRole: (u: UserItem) => void
  onRemove: (u: UserItem) => void
}) {
  const mayRole = mayDo(can, 'setRole')
  const mayRemove = mayDo(can, 'removeUser')
  const anyAction = mayRole || mayRemove
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-800">
      <table data-testid="users-table" className="w-full text-left text-sm">
        <thead className="bg-slate-900 text-xs uppercase tracking-wide text-slate-400">
          <tr>
            <th className={cell}>Name</th>
            <th className={cell}>Role</th>
            <th className={cell}>Created</th>
            <th className={cell}>Changed</th>
            <th className={cell}>Last used</th>
            {anyAction ? (
              <th className={cell}>
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-800/70">
          {items.length === 0 ? (
            <EmptyRow columns={anyAction ? 6 : 5}>
              No users: RBAC is off until the first admin is added (aegis user add --name &lt;name&gt; --role
              admin).
            </EmptyRow>
          ) : null}
          {items.map((u) => (
            <tr key={u.name} data-testid="user-row" data-name={u.name}>
              <td className={`${cell} font-medium text-slate-100`}>
                {u.name}
                {actor.kind === 'user' && actor.name === u.name ? (
                  <span className="ml-2 text-xs font-normal text-slate-400">(you)</span>
                ) : null}
              </td>
              <td className={cell} data-testid="user-role-text">
                {u.role}
              </td>
              <td className={cell}>{localDateTime(u.createdAt)}</td>
              <td className={cell}>{localDateTime(u.updatedAt)}</td>
              <td className={cell} data-testid="user-last-used">
                {u.lastUsedAt === null ? 'never' : localDateTime(u.lastUsedAt)}
              </td>
              {anyAction ? (
                <td className={`${cell} whitespace-nowrap text-right`}>
                  {mayRole ? (
                    <button
                      type="button"
                      data-testid="user-role"
                      className="btn mr-2"
                      aria-label={`Change the role of ${u.name}`}
                      onClick={() => onRole(u)}
                    >
                      Change role
                    </button>
                  ) : null}
                  {mayRemove ? (
                    <button
                      type="button"
                      data-testid="user-remove"
                      className="btn btn-danger"
                      aria-label={`Remove user ${u.name}`}
                      onClick={() => onRemove(u)}
                    >
                      Remove
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function userAsks(api: Api): { role: (u: UserItem) => Ask; remove: (u: UserItem) => Ask } {
  return {
    role: (u) => ({
      title: `Change the role of ${u.name}`,
      body: `${u.name} is ${u.role} now. The new role applies to their next request, in the CLI and here.`,
      confirmLabel: 'Change role',
      input: {
        kind: 'select',
        label: 'Role',
        initial: u.role,
        options: ROLE_CHOICES,
        testId: 'user-role-select',
      },
      run: (value) => api.setRole(u.name, value as Role),
    }),
    remove: (u) => ({
      title: `Remove user ${u.name}?`,
      body: `${u.name}'s token stops working at once, including any dashboard session. The last admin cannot be removed.`,
      confirmLabel: 'Remove',
      danger: true,
      run: () => api.removeUser(u.name),
    }),
  }
}

export function UsersView({ api, can, actor }: { api: Api; can: Can; actor: Actor }) {
  const { data, error, loading, reload } = useResource(() => api.users(), 'users')
  const { ask, dialog } = useConfirm(reload)
  const asks = userAsks(api)
  return (
    <>
      <PageTitle>Users</PageTitle>
      {error ? <ErrorBox error={error} onRetry={reload} /> : null}
      {data ? (
        <UsersTable
          items={data.items}
          actor={actor}
          can={can}
          onRole={(u) => ask(asks.role(u))}
          onRemove={(u) => ask(asks.remove(u))}
        />
      ) : loading ? (
        <Loading what="users" />
      ) : null}
      {dialog}
    </>
  )
}
