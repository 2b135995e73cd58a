import type { EventEmitter } from 'node:events'

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

export interface StopSignalsOptions {
  /** Where the signals arrive: the host passes `process`. */
  readonly source: Pick<EventEmitter, 'on' | 'off'>
  /** Hears a signal that came while the server still starts (to say it stops once started). */
  readonly early?: (signal: NodeJS.Signals) => void
  /** A second signal while it still starts: the host ends the process (`process.exit(128 + n)`). */
  readonly force: (signal: NodeJS.Signals) => void
}

/**
 * SIGINT and SIGTERM for a long-running host (`aegis gate`, `aegis dashboard`, `aegis mcp serve`,
 * `aegis-mcp-server`), caught from before it starts. Without that, a signal that arrives between
 * the "listening" line (or the ledger's start row) and the wait for it falls to Node's default,
 * which ends the process with no drain and no stop row.
 *
 * - A signal while the server starts is kept: once started, it stops at once, cleanly.
 * - A second signal while it still starts goes to `force`, so a start that hangs (an unreachable
 *   database) stays interruptible.
 * - Once started, later signals are ignored: the shutdown closes the ledger and the drain.
 */
export class StopSignals {
  readonly #options: StopSignalsOptions
  readonly #received: Promise<NodeJS.Signals>
  #resolve: (signal: NodeJS.Signals) => void = () => undefined
  #first: NodeJS.Signals | null = null
  #started = false

  constructor(options: StopSignalsOptions) {
    this.#options = options
    this.#received = new Promise((resolve) => {
      this.#resolve = resolve
    })
    for (const signal of STOP_SIGNALS) options.source.on(signal, this.#on)
  }

  readonly #on = (signal: NodeJS.Signals): void => {
    if (this.#first === null) {
      this.#first = signal
      if (!this.#started) this.#options.early?.(signal)
      this.#resolve(signal)
      return
    }
    if (!this.#started) this.#options.force(signal)
  }

  /**
   * Started and serving: resolves with the first signal (at once when one came during the start),
   * after `onStop` has heard it.
   */
  async started(onStop: (signal: NodeJS.Signals) => void = () => undefined): Promise<NodeJS.Signals> {
    this.#started = true
    const signal = await this.#received
    onStop(signal)
    return signal
  }

  /** Takes the listeners off (after the stop, or a failed start). */
  dispose(): void {
    for (const signal of STOP_SIGNALS) this.#options.source.off(signal, this.#on)
  }
}
