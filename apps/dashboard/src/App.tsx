import { useCallback, useEffect, useMemo, useState } from 'react'
import { type Api, type ApiError, createApi, toApiError } from './api/client.js'
import type { Me } from './api/types.js'
import { ErrorBoundary } from './components/ErrorBoundary.js'
import { ErrorBox, Loading } from './components/ui.js'
import { canOf } from './lib/permissions.js'
import { navigate, usePath } from './lib/router.js'
import { AgentsView } from './views/Agents.js'
import { BlockedView } from './views/Blocked.js'
import { CredentialsView } from './views/Credentials.js'
import { FeedView } from './views/Feed.js'
import { LoginView } from './views/Login.js'
import { OverviewView } from './views/Overview.js'
import { Forbidden, resolveView, Shell } from './views/Shell.js'
import { UsersView } from './views/Users.js'

function ViewBody({ api, me, path }: { api: Api; me: Me; path: string }) {
  const view = resolveView(path, me)
  useEffect(() => {
    document.title = `${view === 'forbidden' ? 'Not available' : view.label} · Aegis`
  }, [view])
  if (view === 'forbidden') return <Forbidden path={path} />
  const can = canOf(me.permissions)
  switch (view.id) {
    case 'overview':
      return <OverviewView api={api} />
    case 'feed':
      return <FeedView api={api} />
    case 'credentials':
      return <CredentialsView api={api} can={can} />
    case 'agents':
      return <AgentsView api={api} can={can} />
    case 'users':
      return <UsersView api={api} can={can} actor={me.actor} />
    case 'blocked':
      return <BlockedView api={api} />
  }
}

/**
 * Who is logged in decides everything: `/api/me` on start and after login; any 401 from any call
 * (session expired, user removed) drops back to /login.
 */
export function App() {
  const path = usePath()
  const [me, setMe] = useState<Me | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [tick, setTick] = useState(0)

  const api = useMemo(
    () =>
      createApi({
        onUnauthenticated: () => {
          setMe(null)
          if (window.location.pathname !== '/login') navigate('/login', { replace: true })
        },
      }),
    [],
  )

  const onLogin = path === '/login'
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-asks after a login
  useEffect(() => {
    if (onLogin || me) return
    let live = true
    setError(null)
    api.me().then(
      (value) => {
        if (live) setMe(value)
      },
      (err: unknown) => {
        if (live && toApiError(err).status !== 401) setError(toApiError(err))
      },
    )
    return () => {
      live = false
    }
  }, [api, onLogin, me, tick])

  // Roles can change while the tab is open (the server re-resolves the user on every call): the
  // navigation follows on the next view change, not only on a reload. Only a navigation re-asks:
  // `me` changing here must not loop.
  // biome-ignore lint/correctness/useExhaustiveDependencies: path is the trigger
  useEffect(() => {
    if (onLogin || !me) return
    let live = true
    api.me().then(
      (value) => {
        if (live && JSON.stringify(value) !== JSON.stringify(me)) setMe(value)
      },
      () => {}, // a 401 already went to /login; anything else: keep what we know
    )
    return () => {
      live = false
    }
  }, [path])

  const loggedIn = useCallback(() => {
    setMe(null)
    setTick((t) => t + 1)
    navigate('/', { replace: true })
  }, [])

  const logout = () => {
    const leave = () => {
      setMe(null)
      navigate('/login', { replace: true })
    }
    api.logout().then(leave, leave)
  }

  if (onLogin) return <LoginView api={api} onLoggedIn={loggedIn} />
  if (!me) {
    return (
      <main className="mx-auto max-w-xl p-8">
        {error ? (
          <ErrorBox error={error} onRetry={() => setTick((t) => t + 1)} />
        ) : (
          <Loading what="your session" />
        )}
      </main>
    )
  }
  return (
    <Shell me={me} path={path} onNavigate={(to) => navigate(to)} onLogout={logout}>
      <ErrorBoundary key={path}>
        <ViewBody api={api} me={me} path={path} />
      </ErrorBoundary>
    </Shell>
  )
}
