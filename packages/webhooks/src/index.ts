export { ATTEMPT_TIMEOUT_MS, type AttemptOptions, attemptDelivery, WebhookAddressError } from './deliver.js'
export {
  coalesceKey,
  type EntryLike,
  EVENT_TYPES,
  type EventData,
  type EventPayload,
  type EventType,
  entryData,
  eventTypeOf,
  isEventType,
  testPayload,
} from './events.js'
export {
  type AttemptOutcome,
  type ClaimedDelivery,
  type Delivery,
  type EnableResult,
  type Endpoint,
  type NewEndpoint,
  Outbox,
  type OutboxCounters,
  type OutboxOptions,
  type OutboxWorkerDescriptor,
  type RecordResult,
} from './outbox.js'
export { type DeliveryFilter, type OutboxStore, sqliteOutboxStore } from './outbox-store.js'
export { WEBHOOKS_PG_MIGRATIONS } from './pg-migrations.js'
export { Relay, type RelayLogger, type RelayOptions } from './relay.js'
export { RETRY_SCHEDULE_MS, retryAfterMs, retryDelay } from './schedule.js'
export { DELIVERY_STATUSES, type DeliveryStatus } from './schema.js'
export { generateSecret, MIN_KEY_BYTES, SECRET_PREFIX, signingKey } from './secret.js'
export { type SignInput, signatureHeaders } from './sign.js'
export { webhookUrlProblem } from './url.js'
