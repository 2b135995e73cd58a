import { Transform, type TransformCallback } from 'node:stream'
import type { SecretMatcher } from './matcher.js'
import { Redactor, type RedactorOptions } from './redact.js'

/** A Transform that redacts every secret of a matcher from the bytes flowing through it. */
export class RedactStream extends Transform {
  readonly #redactor: Redactor

  constructor(matcher: SecretMatcher, options: RedactorOptions = {}) {
    super()
    this.#redactor = new Redactor(matcher, options)
  }

  /** Replacements made so far. */
  get count(): number {
    return this.#redactor.count
  }

  /** Kind labels of the secrets redacted so far, sorted. */
  get kinds(): string[] {
    return this.#redactor.kinds
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const out = this.#redactor.push(chunk)
      if (out.length > 0) this.push(out)
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      const out = this.#redactor.end()
      if (out.length > 0) this.push(out)
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }
}

/** A redacting Transform for one body (e.g. `upstream.pipe(redactStream(matcher)).pipe(res)`). */
export function redactStream(matcher: SecretMatcher, options: RedactorOptions = {}): RedactStream {
  return new RedactStream(matcher, options)
}
