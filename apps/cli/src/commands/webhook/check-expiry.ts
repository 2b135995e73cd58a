import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { renderTable } from '../../lib/table.js'
import { checkExpiry, type ExpiringCredential, syncConfigWebhooks, withOutbox } from '../../lib/webhooks.js'

export default class WebhookCheckExpiry extends AegisCommand<typeof WebhookCheckExpiry> {
  static override summary =
    'List credentials expiring within --days and queue a credential_expiry event for each (once per credential and threshold)'
  static override examples = [
    '<%= config.bin %> webhook check-expiry',
    '<%= config.bin %> webhook check-expiry --days 30 --json',
  ]
  static override flags = {
    days: Flags.integer({ description: 'Look this many days ahead', default: 7, min: 0, max: 3650 }),
  }

  async run(): Promise<ExpiringCredential[]> {
    const { days } = this.flags
    const config = this.loadAegisConfig()
    // The config file's webhooks are registered first, as a gate start does: a notice queued
    // before a gate has started with them would otherwise never reach them (it is raised once).
    const found = await this.withVault((vault) =>
      this.withStorage((storage) =>
        withOutbox(storage, async (outbox) => {
          await syncConfigWebhooks(outbox, config, (purpose, secret) => vault.sealSecret(purpose, secret))
          return checkExpiry(outbox, await vault.list(), days, new Date())
        }),
      ),
    )
    if (found.length === 0) {
      this.log(`No credential expires within ${days} ${days === 1 ? 'day' : 'days'}`)
    } else {
      this.log(
        renderTable(
          ['NAME', 'SERVICE', 'EXPIRES', 'DAYS LEFT', 'EVENT'],
          found.map((c) => [c.name, c.service, c.expiresAt, String(c.daysLeft), c.queued ? 'queued' : '-']),
        ),
      )
    }
    return found
  }
}
