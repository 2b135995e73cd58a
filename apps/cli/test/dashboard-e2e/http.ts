import { request } from 'node:http'
import { expect } from 'vitest'

export interface RawReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * One request to the dashboard with exactly the headers given (node:http, so `Host` can be a
 * foreign name: a browser under DNS rebinding sends the attacker's name with the real address).
 */
export function raw(
  port: number,
  opts: {
    method?: string
    path: string
    headers?: Record<string, string>
    body?: string
    /** false: send no Host header at all (unless `headers` has one). */
    setHost?: boolean
  },
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers ?? {},
        agent: false,
        setHost:
          (opts.setHost ?? true) && opts.headers?.host === undefined && opts.headers?.Host === undefined,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** The headers every state-changing call from the SPA carries (Origin + the CSRF header). */
export function writeHeaders(port: number): Record<string, string> {
  return {
    Origin: `http://127.0.0.1:${port}`,
    'X-Aegis-CSRF': '1',
    'Content-Type': 'application/json',
  }
}

/** A session as the SPA holds one: the HttpOnly cookie and the key the login answered. */
export interface Session {
  /** The `Cookie` header value (`aegis_session=…`). */
  cookie: string
  key: string
  /** What every API call of the SPA carries: `Cookie` and `X-Aegis-Session`. */
  headers: Record<string, string>
  /** The subprotocols the SPA offers on `/ws`: `aegis.v1` and `aegis-key.<key>`. */
  protocols: string[]
}

/** Opens a session with a user token (POST /api/session): its cookie and its key. */
export async function openSession(port: number, token: string): Promise<Session> {
  const reply = await raw(port, {
    method: 'POST',
    path: '/api/session',
    headers: writeHeaders(port),
    body: JSON.stringify({ token }),
  })
  expect(reply.status, reply.body).toBe(200)
  const setCookie = ([] as string[]).concat(reply.headers['set-cookie'] ?? [])
  const cookie = setCookie.map((c) => c.split(';')[0] as string).find((c) => c.startsWith('aegis_session='))
  if (cookie === undefined) throw new Error(`no aegis_session cookie in ${JSON.stringify(setCookie)}`)
  const key = (JSON.parse(reply.body) as { sessionKey: string }).sessionKey
  return {
    cookie,
    key,
    headers: { Cookie: cookie, 'X-Aegis-Session': key },
    protocols: ['aegis.v1', `aegis-key.${key}`],
  }
}

/** GET an API route with a session's cookie and key; the parsed JSON body and the status. */
export async function apiGet<T = unknown>(
  port: number,
  session: Session,
  path: string,
): Promise<{ status: number; body: T }> {
  const reply = await raw(port, { path, headers: session.headers })
  return { status: reply.status, body: JSON.parse(reply.body) as T }
}
