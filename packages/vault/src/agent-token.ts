import { randomBytes } from 'node:crypto'
import { AGENT_TOKEN_PREFIX } from '@aegis/guard'

// Hashing and the shape check live in guard so the gate can use them without this package.
export { AGENT_TOKEN_PREFIX, hashAgentToken, isAgentTokenShape } from '@aegis/guard'

/** Random bytes behind each token (256 bits), base64url-encoded to 43 characters. */
export const AGENT_TOKEN_BYTES = 32
/** Characters of a token kept for display: `aegis_` plus 6 (36 of its 256 bits). */
export const AGENT_PREFIX_LENGTH = 12

/** A new agent token: `aegis_` + base64url of 32 random bytes. Show it once; store only its hash. */
export function generateAgentToken(): string {
  return AGENT_TOKEN_PREFIX + randomBytes(AGENT_TOKEN_BYTES).toString('base64url')
}

/** The display prefix of a token (its first 12 characters, e.g. `aegis_AbCdEf`). */
export function agentTokenPrefix(token: string): string {
  return token.slice(0, AGENT_PREFIX_LENGTH)
}
