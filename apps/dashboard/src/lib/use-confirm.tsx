import { type ReactNode, useId, useState } from 'react'
import { toApiError } from '../api/client.js'
import { ConfirmDialog, type ConfirmRequest } from '../components/ConfirmDialog.js'

/** An optional value the dialog asks for (a rate limit, a role). */
export type DialogInput =
  | { kind: 'text'; label: string; initial: string; placeholder?: string; testId: string }
  | { kind: 'select'; label: string; initial: string; options: readonly string[]; testId: string }

export interface Ask extends ConfirmRequest {
  input?: DialogInput
  /** Runs the write; a rejection keeps the dialog open with the API's message. */
  run: (value: string) => Promise<unknown>
}

/**
 * The confirm-then-write flow every write action shares: `ask(...)` opens the dialog; on success
 * it closes and `onDone` reloads the view.
 */
export function useConfirm(onDone: () => void): { ask: (a: Ask) => void; dialog: ReactNode } {
  const [pending, setPending] = useState<Ask | null>(null)
  const [value, setValue] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const inputId = useId()

  const ask = (a: Ask) => {
    setError(null)
    setBusy(false)
    setValue(a.input?.initial ?? '')
    setPending(a)
  }
  if (!pending) return { ask, dialog: null }

  const confirm = () => {
    setBusy(true)
    setError(null)
    pending.run(value).then(
      () => {
        setBusy(false)
        setPending(null)
        onDone()
      },
      (err: unknown) => {
        setBusy(false)
        setError(toApiError(err).message)
      },
    )
  }
  const input = pending.input
  const field = input ? (
    <label htmlFor={inputId} className="block text-sm text-slate-300">
      {input.label}
      {input.kind === 'select' ? (
        <select
          id={inputId}
          data-testid={input.testId}
          className="field mt-1 w-full"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        >
          {input.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={inputId}
          data-testid={input.testId}
          className="field mt-1 w-full"
          value={value}
          placeholder={input.placeholder}
          onChange={(e) => setValue(e.target.value)}
        />
      )}
    </label>
  ) : undefined
  return {
    ask,
    dialog: (
      <ConfirmDialog
        request={pending}
        busy={busy}
        error={error}
        onConfirm={confirm}
        onCancel={() => setPending(null)}
      >
        {field}
      </ConfirmDialog>
    ),
  }
}
