import { redactUrlPassword } from '@aegis/guard'
import { stringify } from 'yaml'
import type { AegisConfig } from './load.js'
import { formatResolveEntry } from './upstream.js'

/**
 * What a masked secret looks like in rendered output: the one mask Aegis prints, the same as
 * `redactUrlPassword` (@aegis/guard) puts in a URL in log lines, doctor and start messages.
 */
export const SECRET_MASK = '***'

export interface RenderOptions {
  /**
   * Show `vault.master_key`, `observability.metrics_token`, `webhooks[].secret`, the password
   * of `rate_limit.redis.url` and `storage.postgres.url`, and the path and query of
   * `webhooks[].url` as `***`.
   */
  maskSecrets: boolean
}

/**
 * The resolved configuration as YAML in the file shape (snake_case), ready to be loaded again.
 * `source` is left out; `gate.upstream.resolve` is written in its map form.
 */
export function renderConfig(config: AegisConfig, opts: RenderOptions): string {
  const { source: _source, gate, vault, observability, rate_limit, storage, webhooks, ...rest } = config
  const hide = (secret: string) => (opts.maskSecrets ? SECRET_MASK : secret)
  const shape = {
    gate: {
      ...gate,
      upstream: {
        ...gate.upstream,
        resolve: Object.fromEntries(gate.upstream.resolve.map(formatResolveEntry)),
      },
    },
    vault: { ...vault, ...(vault.master_key !== undefined && { master_key: hide(vault.master_key) }) },
    observability: {
      ...observability,
      ...(observability.metrics_token !== undefined && { metrics_token: hide(observability.metrics_token) }),
    },
    rate_limit: {
      ...rate_limit,
      redis: {
        ...rate_limit.redis,
        ...(rate_limit.redis.url !== undefined && { url: redactUrlPassword(rate_limit.redis.url, hide) }),
      },
    },
    storage: {
      postgres: {
        ...storage.postgres,
        ...(storage.postgres.url !== undefined && { url: redactUrlPassword(storage.postgres.url, hide) }),
      },
    },
    ...rest,
    webhooks: webhooks.map((hook) => ({
      ...hook,
      url: opts.maskSecrets ? maskWebhookUrl(hook.url) : hook.url,
      secret: hide(hook.secret),
    })),
  }
  return stringify(shape, { lineWidth: 0 })
}

/**
 * A webhook URL as `config show` prints it: where it goes, not how it authenticates. Slack's and
 * Discord's incoming webhooks carry their token in the path, many others in the query (`?token=`),
 * and `config show` is open to every role while `webhook list` is not.
 */
function maskWebhookUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return '(unparseable URL)'
  }
  const rest = url.pathname + url.search
  return rest === '/' || rest === '' ? url.origin : `${url.origin}/${SECRET_MASK}`
}
