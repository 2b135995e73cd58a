import { attemptDelivery, signingKey, testPayload } from '@aegis/webhooks'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { configEndpointId, secretPurpose, webhookAllowList, withOutbox } from '../../lib/webhooks.js'

interface TestResult {
  id: string
  eventId: string
  delivered: boolean
  status: number | null
  error?: string
}

export default class WebhookTest extends AegisCommand<typeof WebhookTest> {
  static override summary =
    'Send one signed test event to a webhook now and print how it answered (exit 1 unless 2xx)'
  static override examples = ['<%= config.bin %> webhook test --id ep_0123456789abcdef']
  static override flags = {
    id: Flags.string({ description: 'Webhook id (aegis webhook list)', required: true }),
  }

  async run(): Promise<TestResult> {
    const { id } = this.flags
    const config = this.loadAegisConfig()
    const found = await this.withStorage((storage) =>
      withOutbox(storage, async (outbox) => ({
        endpoint: await outbox.endpointForDelivery(id),
        events: (await outbox.endpoints()).find((e) => e.id === id)?.events ?? [],
      })),
    )
    const { endpoint, events } = found
    // A config-file webhook no gate has registered yet is tested with the file's URL and secret.
    const fromConfig =
      endpoint === null ? config.webhooks.find((hook) => configEndpointId(hook) === id) : undefined
    if (endpoint === null && fromConfig === undefined)
      this.fail(`No webhook with --id "${id}" (aegis webhook list)`)
    const url = endpoint?.url ?? fromConfig?.url ?? ''
    const key =
      endpoint === null
        ? signingKey(fromConfig?.secret ?? '')
        : await this.withVault((vault) =>
            signingKey(vault.openSecret(secretPurpose(id), endpoint.sealedSecret)),
          )
    const payload = testPayload(fromConfig?.events[0] ?? events[0] ?? 'blocked_request', new Date())
    const outcome = await attemptDelivery({
      url,
      key,
      payload,
      allowPrivate: webhookAllowList(config),
    })
    key.fill(0)
    const result: TestResult = {
      id,
      eventId: payload.id,
      delivered: outcome.kind === 'delivered',
      status: outcome.status,
      ...(outcome.kind === 'failed' && { error: outcome.error }),
      ...(outcome.kind === 'gone' && { error: 'HTTP 410 Gone' }),
    }
    if (!result.delivered) {
      if (this.jsonEnabled()) {
        process.exitCode = 1
        return result
      }
      this.fail(`Webhook ${id} did not accept the test event: ${result.error ?? `HTTP ${outcome.status}`}`)
    }
    this.log(`Delivered test event ${payload.id} to ${url}: HTTP ${outcome.status}`)
    return result
  }
}
