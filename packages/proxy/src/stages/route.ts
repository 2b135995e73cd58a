import { INTERNAL_SERVICE, refuse, splitGatePath } from '@aegis/guard'
import type { SyncStage } from '../pipeline.js'

/**
 * `/{service}/{path}?{query}`: syntax, traversal and encoding tricks are refused before any lookup.
 * Also how a request refused before the pipeline (`GateEngine.reject`) gets its service and path.
 */
export const route: SyncStage = (ctx) => {
  const parts = splitGatePath(ctx.req.target)
  if (!parts.ok) return refuse('bad_request', parts.detail)
  // The gate's own namespace: the HTTP gate answers it before the pipeline; a request that still
  // gets here (an MCP tool call naming it) is no service's, so it is never looked up, and its
  // ledger row names no service.
  if (parts.service === INTERNAL_SERVICE) {
    return refuse('service_not_found', `"${INTERNAL_SERVICE}" is the gate's own namespace, not a service`)
  }
  ctx.service = parts.service
  ctx.path = parts.path
  ctx.query = parts.query
  return undefined
}
