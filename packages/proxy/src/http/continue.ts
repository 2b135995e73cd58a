import { IncomingMessage, type ServerResponse } from 'node:http'

/**
 * A request that answers `Expect: 100-continue` the first time its body is read (as Go's net/http
 * does). A request refused before that (over the size limit, unauthorised, no such service) gets
 * its final answer without a `100 Continue`, so a client such as curl never uploads the body.
 */
export class ContinueOnRead extends IncomingMessage {
  #continue: ServerResponse | null = null

  /** Sends `100 Continue` on `res` when the body is first read, unless a final answer went first. */
  continueOnRead(res: ServerResponse): void {
    this.#continue = res
  }

  override _read(size: number): void {
    const res = this.#continue
    if (res !== null) {
      this.#continue = null
      if (!res.headersSent && !res.writableEnded) res.writeContinue()
    }
    super._read(size)
  }
}
