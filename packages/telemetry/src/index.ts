export { DROPPED_DEFAULT_METRICS } from './defaults.js'
export { ANONYMOUS_AGENT, codeLabel, methodLabel, UNKNOWN_SERVICE } from './labels.js'
export {
  BYTE_BUCKETS,
  createTelemetry,
  DURATION_BUCKETS,
  Telemetry,
  type TelemetryOptions,
} from './telemetry.js'
export type { ObservedRequest, ObservedSnapshot, WebhookQueue, WebhookResult } from './types.js'
