import type { MouseEvent, ReactNode } from 'react'
import type { Actor, Me } from '../api/types.js'
import { canOf, VIEWS, type ViewDef, viewOfPath } from '../lib/permissions.js'

/** `alice · viewer`, or `bootstrap` before any user exists. */
export function whoami(actor: Actor): string {
  return actor.kind === 'user' ? `${actor.name} · ${actor.role}` : 'bootstrap'
}

/** The view to show at `path` for `me`: the view, or 'forbidden' (unknown path or permission not held). */
export function resolveView(path: string, me: Me): ViewDef | 'forbidden' {
  const view = viewOfPath(path)
  if (!view || !canOf(me.permissions)(view.permission)) return 'forbidden'
  return view
}

export function Forbidden({ path }: { path: string }) {
  return (
    <div
      data-testid="forbidden"
      className="rounded-lg border border-slate-800 bg-slate-900 p-6 text-sm text-slate-300"
    >
      <h1 className="text-base font-semibold text-slate-100">Not available</h1>
      <p className="mt-2">
        There is no view at <code className="text-slate-200">{path}</code> that your role may see. Pick one
        from the navigation.
      </p>
    </div>
  )
}

/** The frame around every view: navigation by permission, who is logged in, logout. */
export function Shell({
  me,
  path,
  onNavigate,
  onLogout,
  children,
}: {
  me: Me
  path: string
  onNavigate: (path: string) => void
  onLogout: () => void
  children: ReactNode
}) {
  const can = canOf(me.permissions)
  const current = viewOfPath(path)
  const follow = (e: MouseEvent<HTMLAnchorElement>, to: string) => {
    // Plain clicks stay in the app; modified clicks (new tab) keep the browser's behaviour.
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    onNavigate(to)
  }
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-800 bg-slate-900/80">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <span className="font-semibold tracking-tight text-slate-100">Aegis</span>
          <nav aria-label="Views" className="flex flex-1 flex-wrap gap-1">
            {VIEWS.filter((v) => can(v.permission)).map((v) => (
              <a
                key={v.id}
                href={v.path}
                data-testid={`nav-${v.id}`}
                aria-current={current?.id === v.id ? 'page' : undefined}
                onClick={(e) => follow(e, v.path)}
                className={`rounded px-2.5 py-1.5 text-sm ${
                  current?.id === v.id ? 'bg-slate-800 text-slate-100' : 'text-slate-400 hover:text-slate-100'
                }`}
              >
                {v.label}
              </a>
            ))}
          </nav>
          <div className="flex items-center gap-3 text-sm">
            <span data-testid="whoami" className="text-slate-300">
              {whoami(me.actor)}
            </span>
            <button type="button" data-testid="logout" className="btn" onClick={onLogout}>
              Log out
            </button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </div>
  )
}
