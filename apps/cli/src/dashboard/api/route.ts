/** One API route: method, path pattern, the permission it needs, and its handler. */

import type { IncomingMessage } from 'node:http'
import type { Actor, Permission } from '@aegis/access'
import type { DashboardDeps } from '../deps.js'

export interface RouteContext {
  req: IncomingMessage
  /** Query parameters. */
  query: URLSearchParams
  /** Named groups of the route's pattern, URI-decoded. */
  params: Record<string, string>
  actor: Actor
  deps: DashboardDeps
}

/** A handler's answer: a body (200 JSON) or `undefined` (204). */
export type RouteResult = unknown

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Anchored; named groups become `params`. */
  pattern: RegExp
  /** Checked with `authorize` before the handler runs (on top of dashboard:view). */
  permission: Permission
  /** Writes get their JSON body (an object) here. */
  handle(ctx: RouteContext, body: Record<string, unknown>): RouteResult | Promise<RouteResult>
}
