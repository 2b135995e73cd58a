import { DELIVERY_STATUSES, type Delivery, type DeliveryStatus } from '@aegis/webhooks'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { renderTable } from '../../lib/table.js'
import { withOutbox } from '../../lib/webhooks.js'

export default class WebhookDeliveries extends AegisCommand<typeof WebhookDeliveries> {
  static override summary = 'Show webhook deliveries, newest first'
  static override examples = [
    '<%= config.bin %> webhook deliveries',
    '<%= config.bin %> webhook deliveries --status dead --json',
  ]
  static override flags = {
    status: Flags.string({ description: 'Only deliveries in this state', options: [...DELIVERY_STATUSES] }),
    id: Flags.string({ description: 'Only deliveries to this webhook' }),
    limit: Flags.integer({ description: 'At most this many', default: 50, min: 1, max: 10_000 }),
  }

  async run(): Promise<Delivery[]> {
    const f = this.flags
    const deliveries = await this.withStorage((storage) =>
      withOutbox(storage, (outbox) =>
        outbox.deliveries({
          status: f.status as DeliveryStatus | undefined,
          endpointId: f.id,
          limit: f.limit,
        }),
      ),
    )
    if (deliveries.length === 0) {
      this.log('No deliveries')
    } else {
      this.log(
        renderTable(
          ['ID', 'WEBHOOK', 'EVENT', 'TYPE', 'STATUS', 'ATTEMPTS', 'LAST', 'NEXT'],
          deliveries.map((d) => [
            String(d.id),
            d.endpointId,
            d.eventId,
            d.type,
            d.status,
            String(d.attempt),
            d.lastError ?? (d.lastStatus === null ? '' : `HTTP ${d.lastStatus}`),
            d.nextAttemptAt ?? '',
          ]),
        ),
      )
    }
    return deliveries
  }
}
