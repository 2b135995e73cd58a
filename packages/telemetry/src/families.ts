/**
 * Hot-path metric children. prom-client's own `inc(labels)` / `observe(labels, v)` build a label
 * hash string on every call; these are bound once per label set (per service, decision, …) and
 * cost a number increment per request. prom-client's `Registry` reads them through the same
 * `get()` contract its own metrics implement, and formats the exposition.
 */
export type Labels = Readonly<Record<string, string>>

export class Tally {
  value = 0
  constructor(readonly labels: Labels) {}
}

export class Hist {
  /** Per bucket (not cumulative), the last one is `+Inf`. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(
    readonly labels: Labels,
    readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > (bounds[i] as number)) i++
    this.counts[i] = (this.counts[i] as number) + 1
    this.sum += value
    this.count++
  }
}

/** One exposition line's worth: what prom-client's `Registry` reads from a metric's `get()`. */
interface Sample {
  metricName?: string
  labels: Readonly<Record<string, string | number>>
  value: number
}

/** The metric contract prom-client's `Registry` uses (`name`, `help`, `type`, `get()`, `reset()`). */
export interface Family {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'histogram'
  readonly aggregator: 'sum'
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] }>
  reset(): void
}

/** A counter whose children some owner keeps; `children()` lists them at scrape time. */
export function counterFamily(name: string, help: string, children: () => Iterable<Tally>): Family {
  return {
    name,
    help,
    type: 'counter',
    aggregator: 'sum',
    async get() {
      const values: Sample[] = []
      for (const t of children()) values.push({ labels: t.labels, value: t.value })
      return { name, help, type: 'counter', aggregator: 'sum', values }
    },
    // Counters only go up; Registry.resetMetrics() is for tests of the global registry.
    reset() {},
  }
}

/** A histogram in the exposition format prom-client's own histograms use. */
export function histogramFamily(name: string, help: string, children: () => Iterable<Hist>): Family {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: Sample[] = []
      for (const h of children()) {
        let cumulative = 0
        for (let i = 0; i <= h.bounds.length; i++) {
          cumulative += h.counts[i] as number
          const le = i < h.bounds.length ? (h.bounds[i] as number) : '+Inf'
          values.push({
            metricName: `${name}_bucket`,
            labels: { ...h.labels, le },
            value: cumulative,
          })
        }
        values.push({ metricName: `${name}_sum`, labels: h.labels, value: h.sum })
        values.push({ metricName: `${name}_count`, labels: h.labels, value: h.count })
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values }
    },
    reset() {},
  }
}
