/**
 * `POST /api/session` (a one-time login token or a user token → a session cookie, and the session's
 * key in the body: `{"sessionKey":"…"}`), `DELETE /api/session`, `GET /api/me`. Every other call
 * proves its session with the cookie AND the key (session-key.ts): the cookie alone, which every
 * server on another port of the same host receives from the browser, is no session. Failed logins count towards the server's limit (10 a minute): over
 * it, a failure is answered 429; a right token still logs in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AccessError, type Actor, authorize, invalidUserToken } from '@aegis/access'
import { actorJson, actorOf, permissionsOf, resolveActor } from '../actor.js'
import type { Auth } from '../auth.js'
import { readJsonObject } from '../body.js'
import type { DashboardDeps } from '../deps.js'
import { ApiError, sendJson, sendNoContent } from '../respond.js'
import { type Principal, sessionClearCookie, sessionSetCookie } from '../session.js'
import { apiSessionProof } from '../session-key.js'

const USER_TOKEN_PREFIX = 'aegis_user_'
export const LINK_USED = 'This login link has expired or was already used'
/** The token typed in the form, not AEGIS_USER_TOKEN: the same refusal and way out as every other surface. */
const INVALID_USER_TOKEN = invalidUserToken('this token')
/** A user token while no user exists: there is no admin to ask, and the way in is the login link. */
const NO_USERS_YET =
  'No user exists yet, so no user token is valid: log in with the link aegis dashboard printed (aegis user add creates the first user)'

/** Who a presented token stands for, or a 401/403 ApiError. */
async function principalFor(token: string, auth: Auth, deps: DashboardDeps): Promise<Principal> {
  if (!token.startsWith(USER_TOKEN_PREFIX)) {
    if (!auth.loginTokens.consume(token)) throw new ApiError(401, 'invalid_token', LINK_USED)
    // The link acts as whoever started `aegis dashboard`.
    return { userToken: deps.starterToken }
  }
  let actor: Actor
  try {
    actor = await resolveActor(deps.users, token)
  } catch (error) {
    if (
      error instanceof AccessError &&
      (error.code === 'invalid_token' || error.code === 'authentication_required')
    ) {
      throw new ApiError(401, 'invalid_token', INVALID_USER_TOKEN)
    }
    if (error instanceof AccessError && error.code === 'users_lost') {
      throw new ApiError(403, 'users_lost', error.message)
    }
    throw error
  }
  // While no user exists the store does not even read the token: a user token proves nothing then.
  if (actor.kind === 'bootstrap') throw new ApiError(401, 'invalid_token', NO_USERS_YET)
  const decision = authorize(actor, 'dashboard:view')
  if (!decision.allowed) throw new ApiError(403, 'forbidden', decision.reason)
  return { userToken: token }
}

export async function login(
  req: IncomingMessage,
  res: ServerResponse,
  auth: Auth,
  deps: DashboardDeps,
): Promise<void> {
  const body = await readJsonObject(req)
  const token = body.token
  let principal: Principal
  try {
    if (typeof token !== 'string' || token === '' || token.length > 512) {
      throw new ApiError(400, 'invalid_request', 'token: expected the login link token or a user token')
    }
    principal = await principalFor(token.trim(), auth, deps)
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 400)) failed(auth)
    throw error
  }
  // The starter's own authority is checked now too: a link must not outlive its starter's access.
  await actorOf(deps.users, principal)
  const { id, key } = auth.sessions.open(principal)
  sendJson(res, 200, { sessionKey: key }, { 'set-cookie': sessionSetCookie(id, auth.secure) })
}

/**
 * Counts a failed login; over the limit the failure is answered 429. A right token is never refused
 * for the failures of others: any local process (an agent) can fail ten times a minute, and would
 * otherwise keep the operator out of the dashboard for as long as it kept failing.
 */
function failed(auth: Auth): void {
  if (auth.failures.limited()) {
    throw new ApiError(
      429,
      'too_many_attempts',
      'Too many failed logins: wait a minute and try again',
      auth.failures.retryAfterMs() / 1000,
    )
  }
  auth.failures.record()
}

/** Ends the session (cookie and key both right: a replayed cookie cannot log anyone out); clears the cookie. */
export function logout(req: IncomingMessage, res: ServerResponse, auth: Auth): void {
  auth.sessions.close(apiSessionProof(req))
  sendNoContent(res, { 'set-cookie': sessionClearCookie(auth.secure) })
}

/** The session's principal (cookie and `X-Aegis-Session` both right), or 401. */
export function sessionOf(req: IncomingMessage, auth: Auth): Principal {
  const principal = auth.sessions.get(apiSessionProof(req))
  if (principal === null) throw new ApiError(401, 'unauthenticated', 'Not logged in')
  return principal
}

export async function me(
  req: IncomingMessage,
  res: ServerResponse,
  auth: Auth,
  deps: DashboardDeps,
): Promise<void> {
  const actor = await actorOf(deps.users, sessionOf(req, auth))
  sendJson(res, 200, { actor: actorJson(actor), permissions: permissionsOf(actor) })
}
