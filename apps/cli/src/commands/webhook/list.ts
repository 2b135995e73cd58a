import { AegisCommand } from '../../base-command.js'
import { renderTable } from '../../lib/table.js'
import { type ListedWebhook, listWebhooks, withOutbox } from '../../lib/webhooks.js'

export default class WebhookList extends AegisCommand<typeof WebhookList> {
  static override summary =
    'List webhook endpoints, from webhook add and the config file (never their secrets)'
  static override description =
    "Webhooks from the config file's webhooks: list are shown even before a gate has started with them " +
    '(SOURCE config, STATUS not registered): the gate registers them at start, or at its unseal when it started sealed.'
  static override examples = ['<%= config.bin %> webhook list', '<%= config.bin %> webhook list --json']

  async run(): Promise<ListedWebhook[]> {
    const config = this.loadAegisConfig()
    const stored = await this.withStorage((storage) => withOutbox(storage, (outbox) => outbox.endpoints()))
    const endpoints = listWebhooks(stored, config)
    if (endpoints.length === 0) {
      this.log('No webhooks (aegis webhook add --url <url> --events <types>)')
    } else {
      this.log(
        renderTable(
          ['ID', 'URL', 'EVENTS', 'STATUS', 'SOURCE'],
          endpoints.map((e) => [e.id, e.url, e.events.join(','), statusText(e), e.source]),
        ),
      )
    }
    return endpoints
  }
}

function statusText(e: ListedWebhook): string {
  if (e.status === 'not_registered') return 'not registered (when a gate starts with the key, or is unsealed)'
  return e.status === 'active' ? 'active' : `disabled (${e.disabledReason ?? ''})`
}
