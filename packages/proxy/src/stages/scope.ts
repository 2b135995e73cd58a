import { refuse, scopeAllows } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/** The method must fall inside the credential's scopes (read, write, *). */
export const scope: Stage = (ctx) => {
  const credential = ctx.credential
  if (credential === null || !scopeAllows(ctx.req.method, credential.scopes)) {
    return refuse('scope_denied', `${ctx.req.method} is outside the scopes of "${credential?.name}"`, {
      scopes: credential?.scopes ?? [],
    })
  }
  return undefined
}
