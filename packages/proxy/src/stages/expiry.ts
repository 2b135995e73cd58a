import { refuse } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/** A credential past its TTL is never used. */
export const expiry: Stage = (ctx) => {
  const expiresAt = ctx.credential?.expiresAt ?? null
  if (expiresAt !== null && expiresAt <= ctx.now) {
    return refuse(
      'credential_expired',
      `Credential "${ctx.credential?.name}" expired at ${new Date(expiresAt).toISOString()}`,
    )
  }
  return undefined
}
