import { refuse } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/** Finds the credential that serves the requested service. */
export const service: Stage = (ctx) => {
  const credential = ctx.service === null ? undefined : ctx.snapshot.byService.get(ctx.service)
  if (credential === undefined) return refuse('service_not_found', `No credential serves "${ctx.service}"`)
  ctx.credential = credential
  return undefined
}
