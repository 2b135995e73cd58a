import { refuse } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/**
 * A declared body over the limit is refused before a byte of it is read. Bodies of unknown length
 * are counted while they stream (see `upstream/body.ts`).
 */
export function bodySize(maxBodySize: number): Stage {
  return (ctx) => {
    const declared = ctx.req.contentLength
    const size = declared ?? (ctx.req.body instanceof Uint8Array ? ctx.req.body.byteLength : 0)
    if (size > maxBodySize) {
      return refuse('body_too_large', `Request body of ${size} bytes is over the limit of ${maxBodySize}`, {
        limit: maxBodySize,
      })
    }
    return undefined
  }
}
