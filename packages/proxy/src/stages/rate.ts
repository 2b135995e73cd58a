import type { Stage } from '../pipeline.js'
import type { Budgets } from './budget.js'

/**
 * The credential's rate limit, checked and spent in one step (no other request can pass on the
 * same unit while this one waits later); a request refused after this stage gets its unit back.
 */
export function credentialRate(budgets: Budgets): Stage {
  return (ctx) => {
    const credential = ctx.credential
    if (credential === null || credential.rate === null) return undefined
    return budgets.take(
      ctx,
      'credential',
      `credential:${credential.id}`,
      credential.rate,
      `Credential "${credential.name}" is limited to ${credential.rate.text}`,
    )
  }
}
