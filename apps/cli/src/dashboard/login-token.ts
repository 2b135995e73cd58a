/**
 * One-time login tokens: 32 random bytes (base64url), valid 5 minutes, consumed by the first
 * attempt that presents them, right or late. Only their SHA-256 is kept, so a heap dump taken after
 * the start does not hold a usable token.
 */
import { createHash, randomBytes } from 'node:crypto'

export const LOGIN_TOKEN_TTL_MS = 5 * 60_000

export interface LoginTokensOptions {
  ttlMs?: number
  /** The clock (epoch ms); `Date.now` by default. */
  now?: () => number
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

export class LoginTokens {
  readonly #ttlMs: number
  readonly #now: () => number
  /** token hash → expiry (epoch ms). */
  readonly #live = new Map<string, number>()

  constructor(options: LoginTokensOptions = {}) {
    this.#ttlMs = options.ttlMs ?? LOGIN_TOKEN_TTL_MS
    this.#now = options.now ?? Date.now
  }

  /** A new token; shown once (the start line), never stored. */
  issue(): string {
    const token = randomBytes(32).toString('base64url')
    this.#live.set(sha256(token), this.#now() + this.#ttlMs)
    return token
  }

  /** True when `token` is live; it is gone afterwards either way. */
  consume(token: string): boolean {
    const key = sha256(token)
    const expiry = this.#live.get(key)
    this.#live.delete(key)
    return expiry !== undefined && this.#now() < expiry
  }
}
