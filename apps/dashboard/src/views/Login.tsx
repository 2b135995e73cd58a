import { type FormEvent, useEffect, useId, useRef, useState } from 'react'
import { type Api, toApiError } from '../api/client.js'

/** The `t` parameter of a `#t=<token>` fragment, or null. */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const token = params.get('t')
  return token ? token : null
}

export interface LoginStatus {
  kind: 'idle' | 'working' | 'error'
  message: string
}

/** The page itself: status line and the user-token form. */
export function LoginForm({ status, onSubmit }: { status: LoginStatus; onSubmit: (token: string) => void }) {
  const [token, setToken] = useState('')
  const inputId = useId()
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (token.trim()) onSubmit(token.trim())
  }
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm rounded-lg border border-slate-800 bg-slate-900 p-6">
        <h1 className="text-lg font-semibold text-slate-100">Aegis dashboard</h1>
        <p className="mt-1 text-sm text-slate-400">
          Open the one-time link that <code className="text-slate-300">aegis dashboard</code> printed, or log
          in with your user token.
        </p>
        <p
          data-testid="login-status"
          role={status.kind === 'error' ? 'alert' : 'status'}
          className={`mt-4 min-h-5 text-sm ${status.kind === 'error' ? 'text-rose-300' : 'text-slate-400'}`}
        >
          {status.message}
        </p>
        <form onSubmit={submit} className="mt-3 space-y-3">
          <label htmlFor={inputId} className="block text-sm text-slate-300">
            User token
            <input
              id={inputId}
              data-testid="login-token-input"
              type="password"
              autoComplete="off"
              spellCheck={false}
              placeholder="aegis_user_…"
              className="field mt-1 w-full font-mono"
              value={token}
              onChange={(e) => setToken(e.target.value)}
            />
          </label>
          <button
            type="submit"
            data-testid="login-submit"
            className="btn btn-primary w-full"
            disabled={status.kind === 'working' || !token.trim()}
          >
            Log in
          </button>
        </form>
      </div>
    </main>
  )
}

/**
 * `/login`: a `#t=` one-time token is taken from the fragment (at load, or when the fragment
 * changes), the fragment is wiped from the address bar and history at once (it must not survive a
 * reload or a bookmark), then exchanged for a session: the cookie, and the session key that
 * `api.login` keeps in this origin's localStorage (session-key.ts).
 */
export function LoginView({ api, onLoggedIn }: { api: Api; onLoggedIn: () => void }) {
  const [status, setStatus] = useState<LoginStatus>({ kind: 'idle', message: '' })
  const started = useRef(false)

  const exchange = (token: string, what: string) => {
    setStatus({ kind: 'working', message: `Logging in with the ${what}…` })
    api.login(token).then(onLoggedIn, (err: unknown) => {
      setStatus({ kind: 'error', message: toApiError(err).message })
    })
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: subscribes once; exchange only calls the API
  useEffect(() => {
    const take = () => {
      const token = tokenFromHash(window.location.hash)
      if (!token) return
      history.replaceState(null, '', '/login')
      exchange(token, 'login link')
    }
    // On /login already (after a logout, or a failed link), opening a link only changes the hash.
    window.addEventListener('hashchange', take)
    // StrictMode runs effects twice in development: the page-load token is taken once.
    if (!started.current) {
      started.current = true
      take()
    }
    return () => window.removeEventListener('hashchange', take)
  }, [])

  return <LoginForm status={status} onSubmit={(token) => exchange(token, 'user token')} />
}
