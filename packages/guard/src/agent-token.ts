import { hash } from 'node:crypto'

/** Every agent token starts with this. */
export const AGENT_TOKEN_PREFIX = 'aegis_'

// `aegis_` + base64url of 32 random bytes (256 bits) = 43 characters.
const TOKEN_SHAPE = /^aegis_[A-Za-z0-9_-]{43}$/

/**
 * SHA-256 of the token's UTF-8 bytes (32 bytes): what a store keeps and the gate looks up. Here,
 * not in the vault, so the gate needs no native module to recognise an agent.
 */
export function hashAgentToken(token: string): Buffer {
  // One native call, no Hash object: this runs on every authenticated request.
  return hash('sha256', token, 'buffer')
}

/**
 * The token's SHA-256 in hex: the key a gate looks an agent up by (`hashAgentToken(t)` in hex).
 * A string straight from the native hash is about three times cheaper than the Buffer (whose
 * allocation dominates), and a lookup needs the string anyway.
 */
export function agentTokenKey(token: string): string {
  return hash('sha256', token, 'hex')
}

/**
 * Cheap syntax check: `aegis_` followed by exactly 43 base64url characters. Use it to refuse
 * junk before hashing; it says nothing about whether the token belongs to an agent.
 */
export function isAgentTokenShape(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_SHAPE.test(token)
}
