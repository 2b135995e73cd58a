import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable: event types and payload building, both
// signatures and the secret format, the outbox (a ledger extension), the relay and one attempt.
// A new export must be added here on purpose.
describe('@aegis/webhooks public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'ATTEMPT_TIMEOUT_MS',
        'DELIVERY_STATUSES',
        'EVENT_TYPES',
        'MIN_KEY_BYTES',
        'Outbox',
        'RETRY_SCHEDULE_MS',
        'Relay',
        'SECRET_PREFIX',
        'WEBHOOKS_PG_MIGRATIONS',
        'WebhookAddressError',
        'attemptDelivery',
        'coalesceKey',
        'entryData',
        'eventTypeOf',
        'generateSecret',
        'isEventType',
        'retryAfterMs',
        'retryDelay',
        'signatureHeaders',
        'signingKey',
        'sqliteOutboxStore',
        'testPayload',
        'webhookUrlProblem',
      ].sort(),
    )
  })

  it('keeps the PostgreSQL engine in @aegis/webhooks/pg, so the root never loads pg', async () => {
    const pg = await import('../src/pg.js')
    expect(Object.keys(pg).sort()).toEqual(['PgOutbox'])
  })
})
