import { refuse } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/**
 * Finds the credential that serves the requested service. A service whose stored credential is
 * damaged is refused as unavailable (503: the operator can repair it), not as unknown.
 */
export const service: Stage = (ctx) => {
  const credential = ctx.service === null ? undefined : ctx.snapshot.byService.get(ctx.service)
  if (credential === undefined) {
    if (ctx.service !== null && ctx.snapshot.unavailable.has(ctx.service)) {
      return refuse(
        'credential_unavailable',
        `The credential for "${ctx.service}" cannot be used: its stored record is damaged. Nothing was forwarded; the operator can find it with aegis doctor.`,
      )
    }
    return refuse('service_not_found', `No credential serves "${ctx.service}"`)
  }
  ctx.credential = credential
  return undefined
}
