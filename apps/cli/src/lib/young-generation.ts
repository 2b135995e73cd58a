import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import type { Worker } from 'node:worker_threads'

/**
 * How large a long-running command lets V8's new space (its two semi-spaces) grow: 8 MiB.
 *
 * V8 doubles the new space, up to 32 MiB, whenever enough young objects survive its scavenges:
 * loading the CLI's code does that on its own, and so does a gate under load, which always has
 * requests in flight. The pages stay resident. A gate capped at 8 MiB peaked ~25 MiB lower under
 * load, for the same CPU per request at 16 connections and 4.5 % more at 64 (more scavenges of the
 * same live requests); held at 2 MiB it cost 4.5 % more already at 16
 * (bench/results/2026-12-06-young-generation.md).
 */
export const NEW_SPACE_CAP_BYTES = 8 * 1024 * 1024

/** V8's own growth factor (`node --v8-options`). */
const DEFAULT_GROWTH = 2

/** Flags with which the user sizes the young generation himself; then the process leaves it alone. */
const USER_FLAGS = /--(?:max|min)[-_]semi[-_]space[-_]size|--semi[-_]space[-_]growth[-_]factor/

export interface YoungGenerationOptions {
  /** The process's `execArgv`: a young-generation flag there wins. */
  execArgv?: readonly string[]
  /** The `NODE_OPTIONS` the process started with: a young-generation flag there wins. */
  nodeOptions?: string
}

/**
 * The young generation of this process, held small. `--max-semi-space-size` would say it, but that
 * flag is read once, when the heap is made, before any of our code runs. What stays changeable is
 * the growth factor, read at each growth: after every garbage collection it is set to 1 (no growth)
 * or to V8's 2. It is set every time because V8 puts it back to 2 whenever an isolate is configured
 * or torn down (a worker thread starting or ending), and again as soon as a worker is online and
 * once it exited (without the latter, the first scavenge after a worker ended doubled the space on
 * a busy machine, before the gc callback, which runs later, could set it back); a doubling can
 * still slip in between, in the milliseconds a worker takes to start.
 *
 * Held (factor 1) from the start, while the commands load: loading is one long run of code, in
 * which several doublings in a row would come before any callback could stop them. Once the
 * server is up, `grow()` lets it double, one collection at a time, up to the cap.
 */
export class YoungGeneration {
  readonly #observer: PerformanceObserver
  readonly #onWorker = (worker: Worker): void => {
    worker.once('online', () => this.#apply())
    worker.once('exit', () => this.#apply())
  }
  #growing = false

  constructor() {
    this.#observer = new PerformanceObserver(() => this.#apply())
    this.#observer.observe({ entryTypes: ['gc'] })
    // A worker's isolate is configured by the time it is online: put the factor back at once.
    process.on('worker', this.#onWorker)
    this.#apply()
  }

  /** The new space may grow from now on, up to the cap. */
  grow(): void {
    this.#growing = true
    this.#apply()
  }

  /** Back to V8's own growth. */
  stop(): void {
    this.#observer.disconnect()
    process.off('worker', this.#onWorker)
    setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`)
    if (held === this) held = null
  }

  #apply(): void {
    const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')
    const below = newSpace !== undefined && newSpace.space_size < NEW_SPACE_CAP_BYTES
    setFlagsFromString(`--semi-space-growth-factor=${this.#growing && below ? DEFAULT_GROWTH : 1}`)
  }
}

let held: YoungGeneration | null = null

/**
 * Holds the process's young generation small until `growYoungGeneration()`. Returns null, and
 * changes nothing, when `execArgv` or `nodeOptions` size the young generation already: the user's
 * flag wins. Called once per process, first thing (bin/run.js).
 */
export function holdYoungGeneration(options: YoungGenerationOptions = {}): YoungGeneration | null {
  const userSized =
    (options.execArgv ?? []).some((arg) => USER_FLAGS.test(arg)) || USER_FLAGS.test(options.nodeOptions ?? '')
  if (userSized) return null
  held?.stop()
  held = new YoungGeneration()
  return held
}

/** The server is up: the held young generation may grow to its cap. Nothing happens when none is held. */
export function growYoungGeneration(): void {
  held?.grow()
}
