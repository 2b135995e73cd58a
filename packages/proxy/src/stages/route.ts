import { refuse, splitGatePath } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/** `/{service}/{path}?{query}`: syntax, traversal and encoding tricks are refused before any lookup. */
export const route: Stage = (ctx) => {
  const parts = splitGatePath(ctx.req.target)
  if (!parts.ok) return refuse('bad_request', parts.detail)
  ctx.service = parts.service
  ctx.path = parts.path
  ctx.query = parts.query
  return undefined
}
