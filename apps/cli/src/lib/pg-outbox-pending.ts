// TEMPORARY until @aegis/webhooks exports PgOutbox and WEBHOOKS_PG_MIGRATIONS (h17-users-outbox):
// an outbox with no endpoints, so the gate on PostgreSQL can be exercised meanwhile.
import type { OutboxStore } from '@aegis/webhooks'

const refuse = async (): Promise<never> => {
  throw new Error('webhooks on PostgreSQL are not wired yet')
}

export const PENDING_OUTBOX: OutboxStore = {
  engine: 'postgres',
  counters: { dropped: 0 } as OutboxStore['counters'],
  claim: async () => [],
  record: refuse,
  disable: refuse,
  addEndpoint: refuse,
  putEndpoint: refuse,
  endpoints: async () => [],
  endpointForDelivery: async () => null,
  removeEndpoint: async () => false,
  deliveries: async () => [],
  redeliver: async () => false,
  queueDepth: async () => 0,
  nextDueAt: async () => null,
  noteExpiry: async () => null,
}
