/**
 * A counting semaphore with a bounded wait queue: at most `max` holders at once, at most
 * `queueMax` waiting; past that `acquire` says no at once instead of growing a queue without end.
 */
export class DecodeSlots {
  readonly max: number
  readonly queueMax: number
  #busy = 0
  readonly #waiting: Array<() => void> = []

  constructor(max: number, queueMax: number) {
    this.max = max
    this.queueMax = queueMax
  }

  /** Resolves when a slot is free (call the returned release once); null when the queue is full. */
  acquire(): Promise<() => void> | null {
    if (this.#busy < this.max) {
      this.#busy++
      return Promise.resolve(this.#releaser())
    }
    if (this.#waiting.length >= this.queueMax) return null
    return new Promise((resolve) => this.#waiting.push(() => resolve(this.#releaser())))
  }

  #releaser(): () => void {
    let done = false
    return () => {
      if (done) return
      done = true
      const next = this.#waiting.shift()
      // The slot passes straight to the next waiter; the count only drops when nobody waits.
      if (next === undefined) this.#busy--
      else next()
    }
  }
}
