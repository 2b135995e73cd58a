import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { withOutbox } from '../../lib/webhooks.js'

export default class WebhookRemove extends AegisCommand<typeof WebhookRemove> {
  static override summary = 'Remove a webhook endpoint; its queued deliveries are cancelled'
  static override examples = ['<%= config.bin %> webhook remove --id ep_0123456789abcdef']
  static override flags = {
    id: Flags.string({ description: 'Webhook id (aegis webhook list)', required: true }),
  }

  async run(): Promise<{ id: string; removed: true }> {
    const { id } = this.flags
    const removed = await this.withStorage((storage) =>
      withOutbox(storage, (outbox) => outbox.removeEndpoint(id)),
    )
    if (!removed) this.fail(`No webhook with --id "${id}" (aegis webhook list)`)
    this.log(`Removed webhook ${id}`)
    return { id, removed: true }
  }
}
