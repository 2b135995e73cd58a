import { createHash, timingSafeEqual } from 'node:crypto'
import { inspect } from 'node:util'

const REDACTED = '[REDACTED]'

/**
 * A secret string that does not leak by accident: `String()`, template literals, `JSON.stringify`
 * and `util.inspect` / `console.log` all print `[REDACTED]`. Call `reveal()` for the value.
 */
export class Secret {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
  }

  /** The plaintext. Call only at the point of use (injecting a header, building a matcher). */
  reveal(): string {
    return this.#value
  }

  /** Constant-time comparison (both sides are hashed first, so length does not leak either). */
  equals(other: Secret | string): boolean {
    const theirs = typeof other === 'string' ? other : other.reveal()
    const a = createHash('sha256').update(this.#value, 'utf8').digest()
    const b = createHash('sha256').update(theirs, 'utf8').digest()
    return timingSafeEqual(a, b)
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [Symbol.toPrimitive](): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return REDACTED
  }
}
