import { DEFAULT_PORT, defaultTarget, matchesAllowlist, parseTargetHost, refuse } from '@aegis/guard'
import { carriesSecret } from '../loggable.js'
import type { Stage } from '../pipeline.js'

/**
 * Chooses the upstream host: `X-Target-Host` when sent (it must be on the credential's allowlist,
 * and carry no secret), else the credential's first non-wildcard domain.
 */
export const target: Stage = (ctx) => {
  const credential = ctx.credential
  if (credential === null) return refuse('service_not_found', 'No credential selected')
  const header = ctx.req.targetHost
  if (header === null) {
    const fallback = defaultTarget(credential.domains)
    if (fallback === null) {
      return refuse(
        'bad_request',
        `X-Target-Host is required: credential "${credential.name}" has only wildcard domains`,
      )
    }
    ctx.target = { host: fallback.host, port: fallback.port ?? DEFAULT_PORT }
    return undefined
  }
  const parsed = parseTargetHost(header)
  if (!parsed.ok) return refuse('bad_request', `Invalid X-Target-Host: ${parsed.detail}`)
  if (
    parsed.port !== null &&
    parsed.port !== DEFAULT_PORT &&
    !credential.domains.some((d) => d.port === parsed.port)
  ) {
    return refuse('bad_request', `Invalid X-Target-Host: port ${parsed.port} is not named in the allowlist`)
  }
  if (!matchesAllowlist(parsed.host, parsed.port, credential.domains)) {
    const shown = parsed.port === null ? parsed.host : `${parsed.host}:${parsed.port}`
    return refuse('domain_denied', `${shown} is not in the allowlist of credential "${credential.name}"`, {
      allowed: credential.domains.map((d) => d.text),
    })
  }
  // A secret in a label of a wildcard-allowed host would leave in the DNS query, before inspection.
  if (credential.bodyInspection !== 'off' && carriesSecret(ctx, header)) {
    return refuse('body_inspection', 'The request carries a secret: X-Target-Host')
  }
  ctx.target = { host: parsed.host, port: parsed.port ?? DEFAULT_PORT }
  return undefined
}
