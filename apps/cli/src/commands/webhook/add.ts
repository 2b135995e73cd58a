import { randomUUID } from 'node:crypto'
import {
  type Endpoint,
  EVENT_TYPES,
  type EventType,
  generateSecret,
  isEventType,
  signingKey,
  webhookUrlProblem,
} from '@aegis/webhooks'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { splitList } from '../../lib/lists.js'
import { readSecret } from '../../lib/secret-input.js'
import { secretPurpose, webhookAllowList, withOutbox } from '../../lib/webhooks.js'

export default class WebhookAdd extends AegisCommand<typeof WebhookAdd> {
  static override summary =
    'Add a webhook endpoint; without --secret a whsec_ signing secret is generated and printed once'
  static override description =
    'Deliveries are signed twice: X-Aegis-Signature (sha256=<hex HMAC of the body>) and the Standard Webhooks ' +
    'headers (webhook-id, webhook-timestamp, webhook-signature). The secret is stored encrypted with the active ' +
    "vault's key. https:// is required except for a loopback host; private addresses need gate.upstream.allow_private."
  static override examples = [
    '<%= config.bin %> webhook add --url https://hooks.example.com/aegis --events blocked_request,credential_expiry',
    '$ printf %s "$HOOK_SECRET" | <%= config.bin %> webhook add --url https://hooks.example.com/aegis --events agent_auth_failure --secret -',
  ]
  static override flags = {
    url: Flags.string({ description: 'Where to POST events (https://)', required: true }),
    events: Flags.string({
      description: `Comma-separated event types: ${EVENT_TYPES.join(', ')}`,
      required: true,
    }),
    secret: Flags.string({
      description:
        'Signing secret; "-" reads it from stdin (a value works too, but stays in argv and shell history); omit it to generate a whsec_ secret',
    }),
  }

  async run(): Promise<Endpoint & { secret?: string }> {
    const f = this.flags
    const config = this.loadAegisConfig()
    const problem = webhookUrlProblem(f.url, webhookAllowList(config))
    if (problem !== null) this.fail(`Invalid --url: ${problem}`)
    const events = splitList(f.events, '--events')
    const unknown = events.filter((e) => !isEventType(e))
    if (unknown.length > 0 || events.length === 0) {
      this.fail(
        `Invalid --events ${unknown.length > 0 ? `"${unknown.join(',')}"` : '(empty)'}: expected a comma-separated list of ${EVENT_TYPES.join(', ')}`,
      )
    }
    // A literal value is taken as vault add takes one; AegisCommand.finally warns after success.
    const generated = f.secret === undefined
    const secret = generated
      ? generateSecret()
      : await readSecret({ flag: f.secret, prompt: 'Signing secret' })
    try {
      signingKey(secret)
    } catch (error) {
      this.fail(`Invalid --secret: ${(error as Error).message}`)
    }
    const id = `ep_${randomUUID().replaceAll('-', '').slice(0, 16)}`
    const sealedSecret = await this.withVault((vault) => vault.sealSecret(secretPurpose(id), secret))
    const endpoint = await this.withStorage((storage) =>
      withOutbox(storage, (outbox) =>
        outbox.addEndpoint({ id, url: f.url, events: events as EventType[], sealedSecret }),
      ),
    )
    this.log(`Added webhook ${endpoint.id} → ${endpoint.url} (${endpoint.events.join(', ')})`)
    if (generated) {
      this.log(`Signing secret (shown once, store it with the receiver): ${secret}`)
      return { ...endpoint, secret }
    }
    return endpoint
  }
}
