import type { AuthType, BodyInspection, Scope } from '@aegis/vault'
import { Flags } from '@oclif/core'
import { CliError } from './errors.js'
import { splitList } from './lists.js'

export const AUTH_TYPES = ['bearer', 'header', 'basic', 'query'] as const satisfies readonly AuthType[]
export const BODY_INSPECTION = ['off', 'warn', 'block'] as const satisfies readonly BodyInspection[]

/** Flags shared by `vault add` and `vault update` (values are checked by the vault, not here). */
export const credentialFlags = {
  domains: Flags.string({
    description: 'Comma-separated allowed hosts, e.g. api.slack.com,*.slack.com',
  }),
  'auth-type': Flags.option({ description: 'How the gate injects the secret', options: AUTH_TYPES })(),
  'header-name': Flags.string({ description: 'Header that carries the secret (with --auth-type header)' }),
  'query-param': Flags.string({
    description: 'Query parameter that carries the secret (with --auth-type query)',
  }),
  scopes: Flags.string({ description: 'Comma-separated: read, write, or * (all methods)' }),
  ttl: Flags.string({ description: 'Days until the credential expires' }),
  'rate-limit': Flags.string({ description: 'Requests per window, e.g. 100/min, 1000/hour, 10/sec' }),
  'body-inspection': Flags.option({
    description: 'What to do when an outbound request carries a vault secret',
    options: BODY_INSPECTION,
  })(),
}

/** `read,write` → scopes; unknown words are passed on so the vault names them in its error. */
export function parseScopes(value: string): Scope[] {
  return splitList(value, '--scopes') as Scope[]
}

/**
 * `--ttl` text → days: a whole number of days of 1 or more, or `none` (null: no expiry). Anything
 * else (`1.5`, `0`, `-3`, `abc`) is refused here, naming the rule: the vault's own check would say
 * "a positive number of days", and 1.5 is one. The upper bound is the vault's to name.
 */
export function parseTtl(text: string): number | null {
  const value = text.trim()
  if (value.toLowerCase() === 'none') return null
  if (!/^\+?0*[1-9]\d*$/.test(value)) {
    throw new CliError(`--ttl must be a whole number of days, 1 or more, or none (got "${value}")`)
  }
  return Number(value)
}
