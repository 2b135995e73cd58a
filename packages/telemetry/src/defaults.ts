import { collectDefaultMetrics, type Metric, Registry } from 'prom-client'

/**
 * prom-client's default gauges whose names end in `_total`: promtool rejects them ("non-counter
 * metrics should not have "_total" suffix", a known prom-client issue). Each is the sum over its
 * sibling without the suffix (`nodejs_active_handles{type}`), which stays.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const

let processMetrics: Metric[] | null = null

/**
 * The process and Node metrics (`process_*`, `nodejs_*`: CPU, memory, event-loop lag, GC), made
 * once per process and registered into every instance's private registry. They describe the
 * process, which all instances share; making them per instance would start another event-loop
 * delay monitor and GC observer for each one, and prom-client cannot stop those.
 */
export function defaultMetrics(): readonly Metric[] {
  if (processMetrics === null) {
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name)
    processMetrics = registry.getMetricsAsArray() as unknown as Metric[]
  }
  return processMetrics
}
