import type { Api } from '../api/client.js'
import type { CredentialItem, CredentialList } from '../api/types.js'
import { EmptyRow, ErrorBox, Loading, PageTitle } from '../components/ui.js'
import { daysUntil, expiryLevel, localDateTime } from '../lib/format.js'
import { type Can, mayDo } from '../lib/permissions.js'
import { useConfirm } from '../lib/use-confirm.js'
import { useResource } from '../lib/use-resource.js'

const cell = 'px-2 py-2 align-top'

function authLabel(c: CredentialItem): string {
  if (c.authType === 'header' && c.headerName) return `header ${c.headerName}`
  if (c.authType === 'query' && c.queryParam) return `query ${c.queryParam}`
  return c.authType
}

/** Expiry as text and colour: `never`, `2026-03-01 (in 12 d)`, `in 3 d`, `expired`. */
export function Expiry({ expiresAt, now }: { expiresAt: string | null; now: Date }) {
  const level = expiryLevel(expiresAt, now)
  if (level === 'none' || !expiresAt) return <span className="text-slate-400">never</span>
  const days = daysUntil(expiresAt, now) ?? 0
  const text =
    level === 'expired'
      ? 'expired'
      : days === 0
        ? 'expires today'
        : level === 'soon'
          ? `in ${days} d`
          : `${days} d left`
  const tone = level === 'expired' ? 'text-rose-300' : level === 'soon' ? 'text-amber-300' : 'text-slate-300'
  return (
    <span data-testid="expiry" data-level={level} className={tone} title={expiresAt}>
      {localDateTime(expiresAt).slice(0, 10)} · {text}
    </span>
  )
}

export function CredentialsTable({
  list,
  now,
  can,
  onRemove,
}: {
  list: CredentialList
  now: Date
  can: Can
  onRemove: (c: CredentialItem) => void
}) {
  const mayRemove = mayDo(can, 'removeCredential')
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-800">
      <table data-testid="credentials-table" className="w-full text-left text-sm">
        <thead className="bg-slate-900 text-xs uppercase tracking-wide text-slate-400">
          <tr>
            <th className={cell}>Name</th>
            <th className={cell}>Service</th>
            <th className={cell}>Domains</th>
            <th className={cell}>Auth</th>
            <th className={cell}>Scopes</th>
            <th className={cell}>Expires</th>
            <th className={cell}>Rate limit</th>
            <th className={cell}>Inspection</th>
            <th className={cell}>Rotated</th>
            {mayRemove ? (
              <th className={cell}>
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-800/70">
          {list.items.length === 0 ? (
            <EmptyRow columns={mayRemove ? 10 : 9}>
              No credentials in vault {list.vault}. Add one with aegis vault add.
            </EmptyRow>
          ) : null}
          {list.items.map((c) => (
            <tr key={c.id} data-testid="credential-row" data-name={c.name}>
              <td className={`${cell} font-medium text-slate-100`}>{c.name}</td>
              <td className={cell}>{c.service}</td>
              <td className={`${cell} font-mono text-xs`}>{c.domains.join(', ')}</td>
              <td className={cell}>{authLabel(c)}</td>
              <td className={`${cell} text-xs`}>{c.scopes.length > 0 ? c.scopes.join(', ') : '—'}</td>
              <td className={cell}>
                <Expiry expiresAt={c.expiresAt} now={now} />
              </td>
              <td className={cell}>{c.rateLimit ?? '—'}</td>
              <td className={cell}>{c.bodyInspection}</td>
              <td className={cell} title={c.rotatedAt ?? undefined}>
                {c.rotatedAt ? localDateTime(c.rotatedAt) : 'never'}
              </td>
              {mayRemove ? (
                <td className={`${cell} text-right`}>
                  <button
                    type="button"
                    data-testid="credential-remove"
                    className="btn btn-danger"
                    aria-label={`Remove credential ${c.name}`}
                    onClick={() => onRemove(c)}
                  >
                    Remove
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function CredentialsView({ api, can }: { api: Api; can: Can }) {
  const { data, error, loading, reload } = useResource(() => api.credentials(), 'credentials')
  const { ask, dialog } = useConfirm(reload)
  return (
    <>
      <PageTitle>
        Credentials
        {data ? <span className="ml-2 text-sm font-normal text-slate-400">vault {data.vault}</span> : null}
      </PageTitle>
      {error ? <ErrorBox error={error} onRetry={reload} /> : null}
      {data ? (
        <CredentialsTable
          list={data}
          now={new Date()}
          can={can}
          onRemove={(c) =>
            ask({
              title: `Remove credential ${c.name}?`,
              body: (
                <>
                  The secret of <strong>{c.name}</strong> ({c.service}) is deleted from vault {data.vault}.
                  Agents granted it lose access at once. This cannot be undone.
                </>
              ),
              confirmLabel: 'Remove',
              danger: true,
              run: () => api.removeCredential(c.name),
            })
          }
        />
      ) : loading ? (
        <Loading what="credentials" />
      ) : null}
      {dialog}
    </>
  )
}
