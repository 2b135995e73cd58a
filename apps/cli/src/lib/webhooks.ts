/** What the `aegis webhook …` commands and the gate share: the outbox in the ledger file, sealing, expiry. */
import { createHash } from 'node:crypto'
import type { AegisConfig } from '@aegis/config'
import { type AllowList, parseAllowList } from '@aegis/guard'
import type { LedgerStore } from '@aegis/ledger'
import { type Endpoint, type OutboxStore, signingKey, webhookUrlProblem } from '@aegis/webhooks'
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

/** The endpoint id of a `webhooks:` entry: derived from its URL and events, stable across starts. */
export function configEndpointId(hook: { url: string; events: readonly string[] }): string {
  const digest = createHash('sha256')
    .update(`${hook.url}\n${[...hook.events].sort().join(',')}`)
    .digest('hex')
  return `${CONFIG_ENDPOINT_PREFIX}${digest.slice(0, 16)}`
}

/** A webhook as `webhook list` shows it: where it is defined, and whether the outbox has it yet. */
export interface ListedWebhook extends Omit<Endpoint, 'status' | 'createdAt'> {
  /**
   * `not_registered`: a config-file webhook no gate has started with yet (the gate registers the
   * `webhooks:` list at start, with the vault key that seals its secret); nothing is queued for it
   * until then.
   */
  status: Endpoint['status'] | 'not_registered'
  /** When it was registered; null while `not_registered`. */
  createdAt: string | null
  /** `config`: the config file's `webhooks:` list; `cli`: `aegis webhook add`. */
  source: 'config' | 'cli'
}

/**
 * The endpoints in the outbox and the config file's `webhooks:` entries not registered yet (so
 * they show before any gate start). A registered config endpoint the file no longer lists is
 * still shown: the next gate start removes it.
 */
export function listWebhooks(stored: readonly Endpoint[], config: AegisConfig): ListedWebhook[] {
  const listed: ListedWebhook[] = stored.map((e) => ({
    ...e,
    source: e.id.startsWith(CONFIG_ENDPOINT_PREFIX) ? 'config' : 'cli',
  }))
  const known = new Set(stored.map((e) => e.id))
  for (const hook of config.webhooks) {
    const id = configEndpointId(hook)
    if (known.has(id)) continue
    known.add(id)
    listed.push({
      id,
      url: hook.url,
      events: [...hook.events],
      status: 'not_registered',
      disabledReason: null,
      createdAt: null,
      source: 'config',
    })
  }
  return listed
}

/**
 * Checks `webhooks:` in the config file without the vault key: a URL or secret the guard refuses
 * is a CliError with the entry's key path (what stops a gate, sealed or not, at its start).
 */
export function checkConfigWebhooks(config: AegisConfig): void {
  const allow = webhookAllowList(config)
  for (const [index, hook] of config.webhooks.entries()) {
    const problem = webhookUrlProblem(hook.url, allow)
    if (problem !== null) throw new CliError(`webhooks[${index}].url: ${problem}`)
    try {
      signingKey(hook.secret)
    } catch (error) {
      throw new CliError(`webhooks[${index}].secret: ${(error as Error).message}`)
    }
  }
}

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
  checkConfigWebhooks(config)
  const ids: string[] = []
  for (const hook of config.webhooks) {
    const id = configEndpointId(hook)
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
