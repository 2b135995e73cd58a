import { type ReactNode, useId } from 'react'

/** A side panel over the page; Escape or the close button dismisses it. */
export function Drawer({
  title,
  testId,
  children,
  onClose,
}: {
  title: string
  testId: string
  children: ReactNode
  onClose: () => void
}) {
  const titleId = useId()
  return (
    <aside
      data-testid={testId}
      aria-labelledby={titleId}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose()
      }}
      className="fixed inset-y-0 right-0 z-30 flex w-full max-w-lg flex-col border-l border-slate-700 bg-slate-900 shadow-2xl"
    >
      <div className="flex items-center justify-between border-b border-slate-800 px-4 py-3">
        <h2 id={titleId} className="text-sm font-semibold text-slate-100">
          {title}
        </h2>
        {/* biome-ignore lint/a11y/noAutofocus: the drawer opens on a click; focus follows so Escape works */}
        <button type="button" className="btn" onClick={onClose} autoFocus data-testid="drawer-close">
          Close
        </button>
      </div>
      <div className="flex-1 overflow-auto p-4">{children}</div>
    </aside>
  )
}
