/** What the `aegis webhook …` commands and the gate share: the outbox in the ledger file, sealing, expiry. */
import { createHash } from 'node:crypto'
import type { AegisConfig } from '@aegis/config'
import { type AllowList, parseAllowList } from '@aegis/guard'
import type { LedgerStore } from '@aegis/ledger'
import { type OutboxStore, signingKey, webhookUrlProblem } from '@aegis/webhooks'
import { CliError } from './errors.js'
import type { Storage } from './storage.js'

/** The vault purpose an endpoint's signing secret is sealed for: the envelope opens for no other. */
export function secretPurpose(endpointId: string): string {
  return `webhook:${endpointId}`
}

/** Private addresses webhooks may target: the same list as upstreams (`gate.upstream.allow_private`). */
export function webhookAllowList(config: AegisConfig): AllowList {
  return parseAllowList(config.gate.upstream.allow_private)
}

/** Opens the engine's ledger with the outbox attached, runs `fn`, closes it. */
export async function withOutbox<R>(
  storage: Storage,
  fn: (outbox: OutboxStore, ledger: LedgerStore) => R | Promise<R>,
): Promise<R> {
  const { outbox, ledger } = await storage.openOutbox()
  try {
    return await fn(outbox, ledger)
  } finally {
    await ledger.close()
  }
}

/** Thresholds the gate checks on its own: a week ahead, then a day ahead. */
export const EXPIRY_THRESHOLDS_DAYS = [7, 1] as const

export interface ExpiringCredential {
  name: string
  service: string
  expiresAt: string
  daysLeft: number
  /** Whether this run queued a `credential_expiry` event (false: already notified at this threshold, or nobody subscribes). */
  queued: boolean
}

/**
 * Credentials that expire within `days` (already expired ones too), each noted once per
 * credential, expiry date and threshold in the outbox.
 */
export async function checkExpiry(
  outbox: OutboxStore,
  credentials: readonly { name: string; service: string; expiresAt: string | null }[],
  days: number,
  now: Date,
): Promise<ExpiringCredential[]> {
  const found: ExpiringCredential[] = []
  for (const c of credentials) {
    if (c.expiresAt === null) continue
    const at = Date.parse(c.expiresAt)
    if (Number.isNaN(at)) continue
    const left = (at - now.getTime()) / 86_400_000
    if (left > days) continue
    const queued = (await outbox.noteExpiry(c.name, c.expiresAt, days)) !== null
    found.push({
      name: c.name,
      service: c.service,
      expiresAt: c.expiresAt,
      daysLeft: Math.floor(left),
      queued,
    })
  }
  return found.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt))
}

/** `--delivery` as a positive integer, or a one-line error naming the flag. */
export function deliveryId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text))
    throw new CliError(
      `Invalid --delivery "${text}": expected a delivery id (a positive number; see aegis webhook deliveries)`,
    )
  return Number(text)
}

/** Ids of endpoints that come from the config file's `webhooks:` list (the rest come from `webhook add`). */
export const CONFIG_ENDPOINT_PREFIX = 'cfg_'

/**
 * Makes the outbox's config endpoints match `webhooks:` in the config file: each entry is put
 * (secret sealed with the vault key) under an id derived from its URL and events, and config
 * endpoints no longer listed are removed. A URL or secret the guard refuses stops the gate with
 * the entry's key path.
 */
export async function syncConfigWebhooks(
  outbox: OutboxStore,
  config: AegisConfig,
  sealSecret: (purpose: string, secret: string) => Buffer,
): Promise<string[]> {
  const allow = webhookAllowList(config)
  const ids: string[] = []
  for (const [index, hook] of config.webhooks.entries()) {
    const problem = webhookUrlProblem(hook.url, allow)
    if (problem !== null) throw new CliError(`webhooks[${index}].url: ${problem}`)
    try {
      signingKey(hook.secret)
    } catch (error) {
      throw new CliError(`webhooks[${index}].secret: ${(error as Error).message}`)
    }
    const digest = createHash('sha256')
      .update(`${hook.url}\n${[...hook.events].sort().join(',')}`)
      .digest('hex')
    const id = `${CONFIG_ENDPOINT_PREFIX}${digest.slice(0, 16)}`
    await outbox.putEndpoint({
      id,
      url: hook.url,
      events: hook.events,
      sealedSecret: sealSecret(secretPurpose(id), hook.secret),
    })
    ids.push(id)
  }
  for (const endpoint of await outbox.endpoints()) {
    if (endpoint.id.startsWith(CONFIG_ENDPOINT_PREFIX) && !ids.includes(endpoint.id))
      await outbox.removeEndpoint(endpoint.id)
  }
  return ids
}
