/**
 * Tracks tool calls in flight so a server can stop cleanly: once `close` starts, new calls are
 * refused (`shutting_down`) and `wait` resolves when the last running call has finished.
 */
export class Drain {
  #inFlight = 0
  #closing = false
  #idle: Array<() => void> = []

  get closing(): boolean {
    return this.#closing
  }

  /** Runs `fn` as one in-flight call. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.#inFlight++
    try {
      return await fn()
    } finally {
      this.#inFlight--
      if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve()
    }
  }

  /** Stops accepting calls and waits for running ones, at most `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true
    if (this.#inFlight === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise<void>((resolve) => this.#idle.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      }),
    ])
    clearTimeout(timer)
  }
}
