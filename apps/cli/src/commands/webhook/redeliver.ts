import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { deliveryId, withOutbox } from '../../lib/webhooks.js'

export default class WebhookRedeliver extends AegisCommand<typeof WebhookRedeliver> {
  static override summary =
    'Queue a finished delivery (succeeded, dead or cancelled) again, with the same webhook-id; the running gate sends it'
  static override examples = ['<%= config.bin %> webhook redeliver --delivery 42']
  static override flags = {
    delivery: Flags.string({ description: 'Delivery id (aegis webhook deliveries)', required: true }),
  }

  async run(): Promise<{ delivery: number; queued: true }> {
    const id = deliveryId(this.flags.delivery)
    const queued = await this.withStorage((storage) => withOutbox(storage, (outbox) => outbox.redeliver(id)))
    if (!queued) {
      this.fail(
        `No finished delivery with --delivery ${id} (pending or in-flight ones are queued already; aegis webhook deliveries)`,
      )
    }
    this.log(`Queued delivery ${id} again`)
    return { delivery: id, queued: true }
  }
}
