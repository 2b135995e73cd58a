/** The gate's webhook side: the relay that empties the outbox, and the expiry check on a schedule. */
import type { AegisConfig } from '@aegis/config'
import type { LedgerStore } from '@aegis/ledger'
import type { Telemetry } from '@aegis/telemetry'
import type { CredentialLoad } from '@aegis/vault'
import { type OutboxStore, Relay, type RelayLogger } from '@aegis/webhooks'
import { checkExpiry, EXPIRY_THRESHOLDS_DAYS, secretPurpose, webhookAllowList } from './webhooks.js'

/** How often the running gate looks for expiring credentials (and once at start). */
export const EXPIRY_CHECK_MS = 3_600_000

export interface GateWebhooks {
  /** Checks credential expiry now (also at the unseal of a gate started sealed: it had none to check). */
  checkExpiry(): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts delivering: the relay signs with secrets the vault opens (a sealed gate cannot sign, so
 * its deliveries wait, attempts untouched, until it is unsealed), a delivery that exhausts the schedule becomes a
 * `webhook_exhausted` system entry, and credential expiry is checked at start and every hour
 * against each threshold (7 and 1 days), once per credential and threshold.
 */
export function startGateWebhooks(options: {
  outbox: OutboxStore
  ledger: Pick<LedgerStore, 'system'>
  /** The gate's credentials as loaded now, and the key that opens sealed endpoint secrets. */
  vault: {
    isSealed(): boolean
    loadCredentials(): CredentialLoad
    openSecret(purpose: string, envelope: Buffer): string
  }
  config: AegisConfig
  logger: RelayLogger & { error(object: object, message: string): void }
  telemetry?: Telemetry
}): GateWebhooks {
  const { outbox, ledger, vault, config, logger, telemetry } = options
  telemetry?.watchWebhooks(outbox)
  const relay = new Relay({
    outbox,
    openSecret: (sealed, endpointId) => vault.openSecret(secretPurpose(endpointId), sealed),
    // A sealed gate holds its deliveries back (no attempt spent) and sends them once unsealed.
    canSign: () => !vault.isSealed(),
    allowPrivate: webhookAllowList(config),
    logger,
    onResult: (result) => telemetry?.webhookAttempted(result),
    onDead: (delivery, outcome) => {
      const why = outcome.kind === 'failed' ? outcome.error : `HTTP ${outcome.status}`
      ledger
        .system(
          'webhook_exhausted',
          `delivery ${delivery.deliveryId} of ${delivery.payload.type} ${delivery.payload.id} to ${delivery.endpoint.id}: ${why}`,
        )
        .catch((error: unknown) => logger.error({ err: String(error) }, 'ledger write failed'))
    },
  })
  const checkNow = async () => {
    try {
      // The usable credentials: a damaged row must not stop the others' notices.
      const credentials = vault.loadCredentials().credentials
      for (const days of EXPIRY_THRESHOLDS_DAYS) await checkExpiry(outbox, credentials, days, new Date())
    } catch (error) {
      logger.error({ err: String(error) }, 'credential expiry check failed')
    }
  }
  void checkNow()
  const timer = setInterval(() => void checkNow(), EXPIRY_CHECK_MS)
  timer.unref()
  relay.start()
  return {
    checkExpiry: checkNow,
    async stop() {
      clearInterval(timer)
      await relay.stop()
    },
  }
}
