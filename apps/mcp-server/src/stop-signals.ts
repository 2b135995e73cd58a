import { constants } from 'node:os'

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/**
 * SIGINT and SIGTERM for the server (as `aegis mcp serve` catches them), caught from before it
 * starts. Without that, a signal that arrives between the "listening" line (or the ledger's
 * mcp_start row) and the wait for it falls to Node's default, which ends the process with no
 * drain and no mcp_stop row.
 *
 * - A signal while the server starts is kept: once started, it stops at once, cleanly.
 * - A second signal while it still starts ends the process (128 + signal number), so a start that
 *   hangs (an unreachable database) stays interruptible.
 * - Once started, later signals are ignored: the shutdown closes the ledger and the drain.
 */
export class StopSignals {
  readonly #received: Promise<NodeJS.Signals>
  #resolve: (signal: NodeJS.Signals) => void = () => undefined
  #first: NodeJS.Signals | null = null
  #started = false

  /** `early` hears a signal that came while the command starts (to say it stops once started). */
  constructor(private readonly early: (signal: NodeJS.Signals) => void = () => undefined) {
    this.#received = new Promise((resolve) => {
      this.#resolve = resolve
    })
    for (const signal of STOP_SIGNALS) process.on(signal, this.#on)
  }

  readonly #on = (signal: NodeJS.Signals): void => {
    if (this.#first === null) {
      this.#first = signal
      if (!this.#started) this.early(signal)
      this.#resolve(signal)
      return
    }
    if (!this.#started) process.exit(128 + (constants.signals[signal] ?? 0))
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
    for (const signal of STOP_SIGNALS) process.off(signal, this.#on)
  }
}
