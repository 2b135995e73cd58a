import { hash, randomBytes } from 'node:crypto'

/** Every agent token starts with this. */
export const AGENT_TOKEN_PREFIX = 'aegis_'
/** Random bytes behind each token (256 bits), base64url-encoded to 43 characters. */
export const AGENT_TOKEN_BYTES = 32
/** Characters of a token kept for display: `aegis_` plus 6 (36 of its 256 bits). */
export const AGENT_PREFIX_LENGTH = 12

const TOKEN_SHAPE = /^aegis_[A-Za-z0-9_-]{43}$/

/** A new agent token: `aegis_` + base64url of 32 random bytes. Show it once; store only its hash. */
export function generateAgentToken(): string {
  return AGENT_TOKEN_PREFIX + randomBytes(AGENT_TOKEN_BYTES).toString('base64url')
}

/** SHA-256 of the token's UTF-8 bytes (32 bytes): what the vault stores and the gate looks up. */
export function hashAgentToken(token: string): Buffer {
  // One native call, no Hash object: this runs on every authenticated request.
  return hash('sha256', token, 'buffer')
}

/**
 * Cheap syntax check: `aegis_` followed by exactly 43 base64url characters. Use it to refuse
 * junk before hashing; it says nothing about whether the token belongs to an agent.
 */
export function isAgentTokenShape(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_SHAPE.test(token)
}

/** The display prefix of a token (its first 12 characters, e.g. `aegis_AbCdEf`). */
export function agentTokenPrefix(token: string): string {
  return token.slice(0, AGENT_PREFIX_LENGTH)
}
