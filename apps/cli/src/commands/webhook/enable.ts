import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { withOutbox } from '../../lib/webhooks.js'

/** `aegis webhook enable --json` */
export interface EnableOutput {
  id: string
  status: 'active'
  /** False when the endpoint was active already (nothing changed). */
  enabled: boolean
}

export default class WebhookEnable extends AegisCommand<typeof WebhookEnable> {
  static override summary = 'Make a disabled webhook endpoint (one that answered 410 Gone) active again'
  static override description =
    'The endpoint keeps its id, URL, events and signing secret: receivers need no change. Events from now on are ' +
    'delivered to it; deliveries cancelled while it was disabled stay cancelled (aegis webhook redeliver sends one again). ' +
    'aegis webhook list shows which endpoints are disabled, and why.'
  static override examples = ['<%= config.bin %> webhook enable --id ep_0123456789abcdef']
  static override flags = {
    id: Flags.string({ description: 'Webhook id (aegis webhook list)', required: true }),
  }

  async run(): Promise<EnableOutput> {
    const { id } = this.flags
    const result = await this.withStorage((storage) => withOutbox(storage, (outbox) => outbox.enable(id)))
    if (result === 'not_found') this.fail(`No webhook with --id "${id}" (aegis webhook list)`)
    this.log(
      result === 'enabled'
        ? `Enabled webhook ${id}: events are delivered to it again (same secret)`
        : `Webhook ${id} is active already`,
    )
    return { id, status: 'active', enabled: result === 'enabled' }
  }
}
