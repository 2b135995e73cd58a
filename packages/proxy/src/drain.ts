/**
 * Work in flight, so a server can stop cleanly: once closing starts, new work is refused
 * (`shutting_down`) and `idle()` resolves when the last running piece has finished. One helper for
 * the HTTP gate's requests and the MCP server's tool calls.
 */
export class Drain {
  #inFlight = 0
  #closing = false
  #idle: Array<() => void> = []

  /** True once `startClosing` or `close` was called. */
  get closing(): boolean {
    return this.#closing
  }

  /** Work running now. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** One piece of work starts; pair with exactly one `leave()`. */
  enter(): void {
    this.#inFlight++
  }

  /** One piece of work has finished. */
  leave(): void {
    this.#inFlight--
    if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve()
  }

  /** Runs `fn` as one piece of work. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.enter()
    try {
      return await fn()
    } finally {
      this.leave()
    }
  }

  /** Stops accepting work (running work goes on). */
  startClosing(): void {
    this.#closing = true
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise<void>((resolve) => this.#idle.push(resolve))
  }

  /** Stops accepting work and waits for running work, at most `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.startClosing()
    if (this.#inFlight === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      }),
    ])
    clearTimeout(timer)
  }
}
