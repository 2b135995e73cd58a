import { type FormEvent, type ReactNode, useId } from 'react'

export interface ConfirmRequest {
  title: string
  body: ReactNode
  confirmLabel: string
  /** Red confirm button for removals. */
  danger?: boolean
}

/**
 * Every write asks first. A modal form: Enter confirms, Escape and Cancel back out, and Cancel has
 * the focus so a stray Enter on open does not remove anything.
 */
export function ConfirmDialog({
  request,
  busy,
  error,
  children,
  onConfirm,
  onCancel,
}: {
  request: ConfirmRequest
  busy: boolean
  error: string | null
  children?: ReactNode
  onConfirm: () => void
  onCancel: () => void
}) {
  const titleId = useId()
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (!busy) onConfirm()
  }
  return (
    <div className="fixed inset-0 z-40 flex items-center justify-center bg-black/60 p-4">
      <form
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid="confirm-dialog"
        onSubmit={submit}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onCancel()
        }}
        className="w-full max-w-md rounded-lg border border-slate-700 bg-slate-900 p-5 shadow-xl"
      >
        <h2 id={titleId} className="text-base font-semibold text-slate-100">
          {request.title}
        </h2>
        <div className="mt-2 text-sm text-slate-300">{request.body}</div>
        {children ? <div className="mt-3">{children}</div> : null}
        {error ? (
          <p role="alert" data-testid="confirm-error" className="mt-3 text-sm text-rose-300">
            {error}
          </p>
        ) : null}
        <div className="mt-5 flex justify-end gap-2">
          {/* biome-ignore lint/a11y/noAutofocus: a modal moves focus into itself, onto the safe choice */}
          <button type="button" className="btn" onClick={onCancel} autoFocus data-testid="confirm-cancel">
            Cancel
          </button>
          <button
            type="submit"
            disabled={busy}
            data-testid="confirm-ok"
            className={request.danger ? 'btn btn-danger' : 'btn btn-primary'}
          >
            {busy ? 'Working…' : request.confirmLabel}
          </button>
        </div>
      </form>
    </div>
  )
}
