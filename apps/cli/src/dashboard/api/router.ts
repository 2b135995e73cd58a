/**
 * `/api/*`: session routes, then for every other route a live session, the actor resolved again,
 * `dashboard:view` and the route's own permission (both through `authorize`), and the handler.
 * Library errors become the API's error codes; anything unexpected is a 500 without details.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { actorOf, requirePermission } from '../actor.js'
import type { Auth } from '../auth.js'
import { readJsonObject } from '../body.js'
import type { DashboardDeps } from '../deps.js'
import { ApiError, MethodNotAllowedError, sendError, sendJson, sendNoContent } from '../respond.js'
import { listAgents, removeAgent, revokeGrant, setRateLimit } from './agents.js'
import { blocked } from './blocked.js'
import { listCredentials, removeCredential } from './credentials.js'
import { overview } from './overview.js'
import { getRequest, listRequests } from './requests.js'
import type { Route } from './route.js'
import { login, logout, me, sessionOf } from './session.js'
import { listUsers, removeUser, setUserRole } from './users.js'

const ROUTES: readonly Route[] = [
  overview,
  listRequests,
  getRequest,
  blocked,
  listCredentials,
  removeCredential,
  listAgents,
  revokeGrant,
  setRateLimit,
  removeAgent,
  listUsers,
  setUserRole,
  removeUser,
]

const STATUS_OF_LIBRARY_CODE: Readonly<Record<string, [number, string]>> = {
  not_found: [404, 'not_found'],
  user_not_found: [404, 'not_found'],
  invalid_input: [400, 'invalid_request'],
  invalid_filter: [400, 'invalid_request'],
  duplicate: [409, 'conflict'],
  exists: [409, 'conflict'],
  last_admin: [409, 'conflict'],
  forbidden: [403, 'forbidden'],
  authentication_required: [401, 'unauthenticated'],
  invalid_token: [401, 'unauthenticated'],
}
const LIBRARY_ERRORS = new Set(['VaultError', 'AccessError', 'LedgerError'])

/** The route for `path` and `method`; else the methods `path` is served with (none: no such path). */
function match(
  path: string,
  method: string,
): { route: Route; params: Record<string, string> } | { allow: string[] } {
  const allow: string[] = []
  for (const route of ROUTES) {
    const m = route.pattern.exec(path)
    if (!m) continue
    if (route.method !== method) {
      // HEAD is served wherever GET is.
      allow.push(...(route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]))
      continue
    }
    const params: Record<string, string> = {}
    for (const [key, value] of Object.entries(m.groups ?? {})) {
      try {
        params[key] = decodeURIComponent(value)
      } catch {
        throw new ApiError(400, 'invalid_request', `Malformed ${key} in the path`)
      }
    }
    return { route, params }
  }
  return { allow }
}

async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  auth: Auth,
  deps: DashboardDeps,
): Promise<void> {
  const method = req.method ?? 'GET'
  const path = url.pathname
  if (path === '/api/session') {
    if (method === 'POST') return login(req, res, auth, deps)
    if (method === 'DELETE') return logout(req, res, auth)
    throw new MethodNotAllowedError(method, path, ['POST', 'DELETE'])
  }
  if (path === '/api/me') {
    if (method !== 'GET') throw new MethodNotAllowedError(method, path, ['GET'])
    return me(req, res, auth, deps)
  }
  // Authentication before routing: without a session, every path looks the same.
  const actor = await actorOf(deps.users, sessionOf(req, auth))
  requirePermission(actor, 'dashboard:view')
  const found = match(path, method === 'HEAD' ? 'GET' : method)
  if ('allow' in found) {
    if (found.allow.length === 0) throw new ApiError(404, 'not_found', `No API route ${path}`)
    throw new MethodNotAllowedError(method, path, [...new Set(found.allow)])
  }
  const { route, params } = found
  requirePermission(actor, route.permission)
  const body = route.method === 'GET' ? {} : await readJsonObject(req)
  const result = await route.handle({ req, query: url.searchParams, params, actor, deps }, body)
  if (result === undefined) sendNoContent(res)
  else sendJson(res, 200, result)
}

export async function handleApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  auth: Auth,
  deps: DashboardDeps,
): Promise<void> {
  try {
    await dispatch(req, res, url, auth, deps)
  } catch (error) {
    if (res.headersSent) {
      res.destroy()
      return
    }
    if (error instanceof MethodNotAllowedError) res.setHeader('allow', error.allow.join(', '))
    if (error instanceof ApiError)
      return sendError(res, error.status, error.code, error.message, error.retryAfter)
    const named = error as { name?: string; code?: string; message?: string }
    const mapped = named.code === undefined ? undefined : STATUS_OF_LIBRARY_CODE[named.code]
    if (LIBRARY_ERRORS.has(named.name ?? '') && mapped) {
      // The libraries' messages are one line, written for users, and never hold a secret.
      return sendError(res, mapped[0], mapped[1], named.message ?? 'Refused')
    }
    deps.logger.error({ err: String(named.name ?? 'Error'), path: url.pathname }, 'dashboard API error')
    sendError(res, 500, 'internal', 'Internal error (see the dashboard log)')
  }
}
