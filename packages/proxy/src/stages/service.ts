import { refuse } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/**
 * Finds the credential that serves the requested service. A service whose stored credential the
 * gate cannot use (a damaged row, or settings it cannot apply, such as a secret a header cannot
 * carry) is refused as unavailable (503: the operator can repair it), not as unknown. The agent is
 * told no more than that: the reason is in the gate's log and in `aegis doctor`.
 */
export const service: Stage = (ctx) => {
  const credential = ctx.service === null ? undefined : ctx.snapshot.byService.get(ctx.service)
  if (credential === undefined) {
    if (ctx.service !== null && ctx.snapshot.unavailable.has(ctx.service)) {
      return refuse(
        'credential_unavailable',
        `The credential for "${ctx.service}" cannot be used as it is stored. Nothing was forwarded; the operator can see why in the gate log or with aegis doctor.`,
      )
    }
    return refuse('service_not_found', `No credential serves "${ctx.service}"`)
  }
  ctx.credential = credential
  return undefined
}
