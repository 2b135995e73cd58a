import { feedProtocols, SESSION_KEY_HEADER, type SessionKeyStore, storedSessionKey } from './session-key.js'
import type {
  AgentItem,
  BlockedReport,
  CredentialList,
  ItemList,
  LedgerEntry,
  Me,
  Overview,
  RequestsPage,
  Role,
  UserItem,
} from './types.js'

/** An API refusal or a failed call, with the server's code and one-sentence message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Any failure as an ApiError (a thrown non-API error keeps its message). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  return new ApiError(0, 'client_error', err instanceof Error ? err.message : String(err))
}

export type Query = Record<string, string | number | undefined>

export interface ApiOptions {
  /** Defaults to the global fetch; tests pass a fake. */
  fetch?: typeof fetch
  /** Called on any 401 except from the login call itself (which reports its own error). */
  onUnauthenticated?: () => void
  /** Where the session key is kept; this origin's localStorage by default. */
  sessionKey?: SessionKeyStore
}

/** `?a=1&b=x` from the defined, non-empty values, in key order given. */
export function queryString(query: Query | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue
    params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

const seg = (name: string): string => encodeURIComponent(name)

/** Reads the `{"error":{code,message}}` body of a refusal; anything else becomes a generic message. */
async function errorOf(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`
  let message = `The dashboard server answered ${res.status} ${res.statusText}`.trim()
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } }
    if (typeof body.error?.code === 'string') code = body.error.code
    if (typeof body.error?.message === 'string' && body.error.message) message = body.error.message
  } catch {
    // Not JSON (a proxy's error page): keep the generic message.
  }
  return new ApiError(res.status, code, message)
}

/**
 * The dashboard API client. Every call is same-origin with the session cookie and the session key
 * (`X-Aegis-Session`, from session-key.ts: the cookie alone is no session); every write sends
 * `X-Aegis-CSRF: 1` (the server refuses writes without it: a cross-site form cannot set it). The
 * login keeps the key it answers; a logout, or a 401 for the key sent, forgets it.
 */
export function createApi(options: ApiOptions = {}) {
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const keys = options.sessionKey ?? storedSessionKey()

  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    { quiet401 = false }: { quiet401?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    const key = keys.get()
    if (key !== null) headers[SESSION_KEY_HEADER] = key
    if (method !== 'GET' && method !== 'HEAD') headers['X-Aegis-CSRF'] = '1'
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let res: Response
    try {
      res = await doFetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })
    } catch {
      throw new ApiError(
        0,
        'unreachable',
        'The dashboard server did not answer (is aegis dashboard running?)',
      )
    }
    if (!res.ok) {
      const error = await errorOf(res)
      if (res.status === 401 && !quiet401) {
        // The session of this key is over. A key another tab stored since (a new login) is kept.
        if (key !== null && keys.get() === key) keys.clear()
        options.onUnauthenticated?.()
      }
      throw error
    }
    if (res.status === 204) return undefined as T
    try {
      return (await res.json()) as T
    } catch {
      throw new ApiError(
        res.status,
        'invalid_response',
        'The dashboard server sent a response that is not JSON',
      )
    }
  }

  async function login(token: string): Promise<void> {
    const answer = await call<{ sessionKey?: unknown }>('POST', '/api/session', { token }, { quiet401: true })
    const key = answer?.sessionKey
    if (typeof key !== 'string' || key === '') {
      throw new ApiError(200, 'invalid_response', 'The dashboard server did not answer a session key')
    }
    keys.set(key)
  }

  async function logout(): Promise<void> {
    try {
      await call<void>('DELETE', '/api/session', undefined, { quiet401: true })
    } finally {
      keys.clear()
    }
  }

  return {
    login,
    logout,
    /** The subprotocols of the feed's WebSocket, with the current key (read at every connect). */
    feedProtocols: () => feedProtocols(keys.get()),
    me: () => call<Me>('GET', '/api/me'),
    overview: () => call<Overview>('GET', '/api/overview'),
    requests: (query: Query) => call<RequestsPage>('GET', `/api/requests${queryString(query)}`),
    request: (id: number) => call<LedgerEntry>('GET', `/api/requests/${id}`),
    blocked: (since: string) => call<BlockedReport>('GET', `/api/blocked${queryString({ since })}`),
    credentials: () => call<CredentialList>('GET', '/api/credentials'),
    removeCredential: (name: string) => call<void>('DELETE', `/api/credentials/${seg(name)}`),
    agents: () => call<ItemList<AgentItem>>('GET', '/api/agents'),
    revokeGrant: (agent: string, credential: string) =>
      call<{ changed: boolean }>('POST', `/api/agents/${seg(agent)}/revoke`, { credential }),
    setRateLimit: (agent: string, rateLimit: string | null) =>
      call<AgentItem>('PUT', `/api/agents/${seg(agent)}/rate-limit`, { rateLimit }),
    removeAgent: (name: string) => call<void>('DELETE', `/api/agents/${seg(name)}`),
    users: () => call<ItemList<UserItem>>('GET', '/api/users'),
    setRole: (name: string, role: Role) => call<void>('PUT', `/api/users/${seg(name)}/role`, { role }),
    removeUser: (name: string) => call<void>('DELETE', `/api/users/${seg(name)}`),
  }
}

export type Api = ReturnType<typeof createApi>
