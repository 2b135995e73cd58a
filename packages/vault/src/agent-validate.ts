import { isAgentTokenShape } from './agent-token.js'
import { VaultError } from './errors.js'
import type { AgentLimits, NewAgent } from './types.js'
import { checkObject, validateRate } from './validate.js'

const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** Upper bound for `maxInFlight`: far above any sane cap, low enough to catch typos. */
export const MAX_IN_FLIGHT_LIMIT = 100_000

const NEW_AGENT_KEYS = new Set(['name', 'rateLimit', 'maxInFlight'])
const LIMIT_KEYS = new Set(['rateLimit', 'maxInFlight'])

function invalid(message: string): VaultError {
  return new VaultError('invalid_input', message)
}

/**
 * Throws unless `name` is a valid agent name. A name shaped like an agent token is refused too
 * (someone pasted the token where the name goes), so names are always safe to echo in messages.
 * The message never repeats the value.
 */
export function validateAgentName(name: unknown): string {
  if (typeof name !== 'string' || !AGENT_NAME.test(name)) {
    throw invalid('agent name must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit')
  }
  if (isAgentTokenShape(name)) throw invalid('agent name must not look like an agent token')
  return name
}

/** A positive integer cap on concurrent requests, or null for none. */
export function validateMaxInFlight(value: unknown): number | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_IN_FLIGHT_LIMIT) {
    throw invalid(`maxInFlight must be a positive integer (at most ${MAX_IN_FLIGHT_LIMIT})`)
  }
  return value
}

/** The validated fields of a new agent. */
export interface AgentFields {
  name: string
  rateLimit: string | null
  maxInFlight: number | null
}

/** Validates and normalizes the input of `Vault.addAgent` (the rate is stored canonical). */
export function validateNewAgent(input: NewAgent): AgentFields {
  checkObject(input, NEW_AGENT_KEYS, 'agent')
  return {
    name: validateAgentName(input.name),
    rateLimit: validateRate(input.rateLimit),
    maxInFlight: validateMaxInFlight(input.maxInFlight),
  }
}

/** Applies a `Vault.setAgentLimits` patch to the current limits. */
export function validateAgentLimits(
  current: Omit<AgentFields, 'name'>,
  patch: AgentLimits,
): Omit<AgentFields, 'name'> {
  checkObject(patch, LIMIT_KEYS, 'limits')
  return {
    rateLimit: patch.rateLimit === undefined ? current.rateLimit : validateRate(patch.rateLimit),
    maxInFlight:
      patch.maxInFlight === undefined ? current.maxInFlight : validateMaxInFlight(patch.maxInFlight),
  }
}

/**
 * `"name"` for a message, unless the value looks like an agent token: then a placeholder, so an
 * error never repeats a token someone typed in the wrong place.
 */
export function quoteName(name: string): string {
  return isAgentTokenShape(name) ? '(a value shaped like an agent token, not shown)' : `"${name}"`
}
