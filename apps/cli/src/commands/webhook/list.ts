import type { Endpoint } from '@aegis/webhooks'
import { AegisCommand } from '../../base-command.js'
import { renderTable } from '../../lib/table.js'
import { withOutbox } from '../../lib/webhooks.js'

export default class WebhookList extends AegisCommand<typeof WebhookList> {
  static override summary = 'List webhook endpoints (never their secrets)'
  static override examples = ['<%= config.bin %> webhook list', '<%= config.bin %> webhook list --json']

  async run(): Promise<Endpoint[]> {
    const endpoints = await this.withStorage((storage) => withOutbox(storage, (outbox) => outbox.endpoints()))
    if (endpoints.length === 0) {
      this.log('No webhooks (aegis webhook add --url <url> --events <types>)')
    } else {
      this.log(
        renderTable(
          ['ID', 'URL', 'EVENTS', 'STATUS'],
          endpoints.map((e) => [
            e.id,
            e.url,
            e.events.join(','),
            e.status === 'active' ? 'active' : `disabled (${e.disabledReason ?? ''})`,
          ]),
        ),
      )
    }
    return endpoints
  }
}
