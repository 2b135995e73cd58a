import type { Api } from '../api/client.js'
import type { AgentItem } from '../api/types.js'
import { EmptyRow, ErrorBox, Loading, PageTitle } from '../components/ui.js'
import { localDateTime } from '../lib/format.js'
import { type Can, mayDo } from '../lib/permissions.js'
import { type Ask, useConfirm } from '../lib/use-confirm.js'
import { useResource } from '../lib/use-resource.js'

const cell = 'px-2 py-2 align-top'

export interface AgentActions {
  onRevoke: (agent: AgentItem, credential: string) => void
  onRateLimit: (agent: AgentItem) => void
  onRemove: (agent: AgentItem) => void
}

export function AgentsTable({
  items,
  can,
  actions,
}: {
  items: readonly AgentItem[]
  can: Can
  actions: AgentActions
}) {
  const mayRevoke = mayDo(can, 'revokeGrant')
  const mayLimit = mayDo(can, 'setRateLimit')
  const mayRemove = mayDo(can, 'removeAgent')
  const anyAction = mayLimit || mayRemove
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-800">
      <table data-testid="agents-table" className="w-full text-left text-sm">
        <thead className="bg-slate-900 text-xs uppercase tracking-wide text-slate-400">
          <tr>
            <th className={cell}>Name</th>
            <th className={cell}>Token prefix</th>
            <th className={cell}>Grants</th>
            <th className={cell}>Rate limit</th>
            <th className={cell}>Max in flight</th>
            <th className={cell}>Created</th>
            <th className={cell}>Token rotated</th>
            {anyAction ? (
              <th className={cell}>
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-800/70">
          {items.length === 0 ? (
            <EmptyRow columns={anyAction ? 8 : 7}>
              No agents yet. Register one with aegis agent add --name &lt;name&gt;.
            </EmptyRow>
          ) : null}
          {items.map((a) => (
            <tr key={a.name} data-testid="agent-row" data-name={a.name}>
              <td className={`${cell} font-medium text-slate-100`}>{a.name}</td>
              <td className={`${cell} font-mono text-xs text-slate-400`}>{a.prefix}…</td>
              <td className={cell}>
                {a.grants.length === 0 ? <span className="text-slate-400">none</span> : null}
                <ul className="flex flex-wrap gap-1">
                  {a.grants.map((g) => (
                    <li
                      key={g}
                      data-testid="agent-grant"
                      className="flex items-center gap-1 rounded bg-slate-800 px-1.5 py-0.5 text-xs text-slate-200"
                    >
                      {g}
                      {mayRevoke ? (
                        <button
                          type="button"
                          data-testid="agent-revoke"
                          className="rounded px-1 text-slate-400 hover:bg-rose-500/20 hover:text-rose-200"
                          aria-label={`Revoke ${g} from ${a.name}`}
                          title={`Revoke ${g} from ${a.name}`}
                          onClick={() => actions.onRevoke(a, g)}
                        >
                          ×
                        </button>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </td>
              <td className={cell}>{a.rateLimit ?? 'none'}</td>
              <td className={cell}>{a.maxInFlight ?? 'none'}</td>
              <td className={cell}>{localDateTime(a.createdAt)}</td>
              <td className={cell}>{a.tokenRotatedAt ? localDateTime(a.tokenRotatedAt) : 'never'}</td>
              {anyAction ? (
                <td className={`${cell} whitespace-nowrap text-right`}>
                  {mayLimit ? (
                    <button
                      type="button"
                      data-testid="agent-rate-limit"
                      className="btn mr-2"
                      aria-label={`Set the rate limit of ${a.name}`}
                      onClick={() => actions.onRateLimit(a)}
                    >
                      Rate limit
                    </button>
                  ) : null}
                  {mayRemove ? (
                    <button
                      type="button"
                      data-testid="agent-remove"
                      className="btn btn-danger"
                      aria-label={`Remove agent ${a.name}`}
                      onClick={() => actions.onRemove(a)}
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

/** The dialogs behind the agent actions (exported for tests: what each one sends). */
export function agentAsks(api: Api): {
  revoke: (a: AgentItem, credential: string) => Ask
  rateLimit: (a: AgentItem) => Ask
  remove: (a: AgentItem) => Ask
} {
  return {
    revoke: (a, credential) => ({
      title: `Revoke ${credential} from ${a.name}?`,
      body: `Agent ${a.name} can no longer use credential ${credential}; its requests for it are refused at once.`,
      confirmLabel: 'Revoke',
      danger: true,
      run: () => api.revokeGrant(a.name, credential),
    }),
    rateLimit: (a) => ({
      title: `Rate limit of ${a.name}`,
      body: 'Requests per period for this agent, e.g. 100/min or 10/s. Empty or "none" removes the limit.',
      confirmLabel: 'Save',
      input: {
        kind: 'text',
        label: 'Rate limit',
        initial: a.rateLimit ?? '',
        placeholder: '100/min',
        testId: 'agent-rate-limit-input',
      },
      run: (value) => {
        const v = value.trim()
        return api.setRateLimit(a.name, v === '' || v.toLowerCase() === 'none' ? null : v)
      },
    }),
    remove: (a) => ({
      title: `Remove agent ${a.name}?`,
      body: `The token of ${a.name} stops working at once and its grants are deleted. This cannot be undone.`,
      confirmLabel: 'Remove',
      danger: true,
      run: () => api.removeAgent(a.name),
    }),
  }
}

export function AgentsView({ api, can }: { api: Api; can: Can }) {
  const { data, error, loading, reload } = useResource(() => api.agents(), 'agents')
  const { ask, dialog } = useConfirm(reload)
  const asks = agentAsks(api)
  return (
    <>
      <PageTitle>Agents</PageTitle>
      {error ? <ErrorBox error={error} onRetry={reload} /> : null}
      {data ? (
        <AgentsTable
          items={data.items}
          can={can}
          actions={{
            onRevoke: (a, c) => ask(asks.revoke(a, c)),
            onRateLimit: (a) => ask(asks.rateLimit(a)),
            onRemove: (a) => ask(asks.remove(a)),
          }}
        />
      ) : loading ? (
        <Loading what="agents" />
      ) : null}
      {dialog}
    </>
  )
}
