import { hostAllowlistProblem, isHttpToken } from '@aegis/guard'
import { z } from 'zod'
import { isIpOrCidr, parseResolveEntry, parseResolveMapping, type ResolveEntry } from './upstream.js'
import { WEBHOOK_EVENTS } from './webhook-events.js'

export const POLICY_MODES = ['enforce', 'dry-run', 'off'] as const
export const POLICY_DEFAULTS = ['allow', 'deny'] as const
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const LOG_FORMATS = ['json', 'pretty'] as const
/** Which requests get a log line of their own (every request is in the ledger regardless). */
export const LOG_REQUESTS = ['off', 'refused', 'all'] as const
export const MCP_TRANSPORTS = ['stdio', 'http'] as const
export const RATE_LIMIT_FAILURE_MODES = ['closed', 'open'] as const
export { WEBHOOK_EVENTS }

/** Vault names: they become file names, so a small safe alphabet. */
export const VAULT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/
const LOCAL_WEBHOOK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
const MAX_TIMER_MS = 2_147_483_647

const port = z.number().int().min(0).max(65535)
const filePath = z.string().min(1, 'expected a non-empty path')
const host = z.string().regex(/^[^\s/]+$/, 'expected a host name or IP address')

/** Extra names a local server answers to (`Host`), besides loopback names and IP addresses. */
const allowedHosts = z
  .array(z.string())
  .max(256)
  .superRefine((names, ctx) => {
    const problem = hostAllowlistProblem(names)
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem })
  })
  .transform((names) => names.map((name) => name.trim().toLowerCase()))

const dashboard = z.strictObject({
  enabled: z.boolean().default(false),
  host: host.default('127.0.0.1'),
  port: port.default(3200),
  // Host names the dashboard answers besides localhost, *.localhost and IP addresses (DNS rebinding).
  allowed_hosts: allowedHosts.default([]),
})

const caFile = z
  .union([filePath, z.array(filePath)], { error: 'expected a path or a list of paths' })
  .transform((value) => (typeof value === 'string' ? [value] : value))

const resolve = z
  .union([z.array(z.string()), z.record(z.string(), z.string())], {
    error: 'expected a list of "host:port:address:port" or a map of "host:port" to "address:port"',
  })
  .transform((value, ctx) => {
    const entries: ResolveEntry[] = []
    const seen = new Set<string>()
    const pairs: [string | number, ResolveEntry | string][] = Array.isArray(value)
      ? value.map((text, index) => [index, parseResolveEntry(text)])
      : Object.entries(value).map(([key, target]) => [key, parseResolveMapping(key, target)])
    for (const [at, parsed] of pairs) {
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed, path: [at] })
        continue
      }
      const id = `${parsed.host}:${parsed.port}`
      if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate entry for ${id}`, path: [at] })
      seen.add(id)
      entries.push(parsed)
    }
    return entries
  })

/** What usually breaks a database URL that names the right scheme. The value itself is never quoted. */
const URL_PARTS = 'the port a number, special characters in the user or password percent-encoded'

/**
 * The database clients decode a URL's user and password with `decodeURIComponent`: a bare `%`
 * there (`pa%ss`) made every command fail with "URI malformed", naming neither the key nor the fix.
 * The message never quotes the value (it holds the password).
 */
function checkUserInfo(url: URL, ctx: z.RefinementCtx): void {
  try {
    decodeURIComponent(url.username)
    decodeURIComponent(url.password)
  } catch {
    ctx.addIssue({
      code: 'custom',
      message:
        'the user name or password is not percent-encoded: percent-encode its special characters (% as %25, @ as %40, : as %3A, / as %2F)',
    })
  }
}

/** `redis://` or `rediss://` (TLS), host required; a password in it is masked by `config show`. */
const redisUrl = z.string().superRefine((text, ctx) => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: /^rediss?:\/\//i.test(text)
        ? `not a valid URL: expected redis://[user:password@]host:6379[/db] (${URL_PARTS})`
        : 'expected a redis:// or rediss:// URL',
    })
    return
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    ctx.addIssue({ code: 'custom', message: `expected a redis:// or rediss:// URL, got ${url.protocol}//` })
  } else if (url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: 'expected a host (redis://host:port)' })
  } else checkUserInfo(url, ctx)
})

/** `postgres://` or `postgresql://`, host required; a password in it is masked by `config show`. */
const postgresUrl = z.string().superRefine((text, ctx) => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: /^postgres(ql)?:\/\//i.test(text)
        ? `not a valid URL: expected postgres://user:password@host:5432/database (${URL_PARTS})`
        : 'expected a postgres:// or postgresql:// URL',
    })
    return
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    ctx.addIssue({
      code: 'custom',
      message: `expected a postgres:// or postgresql:// URL, got ${url.protocol}//`,
    })
  } else if (url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: 'expected a host (postgres://user@host:5432/database)' })
  } else checkUserInfo(url, ctx)
})

const webhookUrl = z.string().superRefine((text, ctx) => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected an absolute URL' })
    return
  }
  const localHttp = url.protocol === 'http:' && LOCAL_WEBHOOK_HOSTS.has(url.hostname)
  if (url.protocol !== 'https:' && !localHttp) {
    ctx.addIssue({ code: 'custom', message: 'expected an https URL (http only for localhost/127.0.0.1)' })
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'credentials in the URL are not allowed; use secret' })
  }
})

const webhook = z.strictObject({
  url: webhookUrl,
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1, 'expected at least one event')
    .transform((events) => [...new Set(events)]),
  secret: z.string().min(1, 'expected a non-empty signing secret'),
})

type TlsInput = { enabled?: boolean | undefined; cert?: string | undefined; key?: string | undefined }

/** Cross-field TLS rules; only checked on the merged layers (a flag may supply what the file lacks). */
function checkTls(tls: TlsInput, ctx: z.RefinementCtx): void {
  if (tls.enabled === false) return
  if (tls.enabled === true) {
    for (const part of ['cert', 'key'] as const) {
      if (tls[part] === undefined)
        ctx.addIssue({ code: 'custom', message: 'required when TLS is enabled', path: [part] })
    }
    return
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'cert' : 'key'
    const given = missing === 'cert' ? 'key' : 'cert'
    ctx.addIssue({ code: 'custom', message: `required together with gate.tls.${given}`, path: [missing] })
  }
}

function buildSchema(crossChecks: boolean) {
  const tls = z
    .strictObject({ enabled: z.boolean().optional(), cert: filePath.optional(), key: filePath.optional() })
    .superRefine((value, ctx) => {
      if (crossChecks) checkTls(value, ctx)
    })
    .transform((t) => ({
      enabled: t.enabled ?? (t.cert !== undefined && t.key !== undefined),
      cert: t.cert,
      key: t.key,
    }))

  const upstream = z.strictObject({
    ca_file: caFile.default([]),
    resolve: resolve.default([]),
    allow_private: z
      .array(z.string().refine(isIpOrCidr, 'expected an IP address or CIDR range like 10.0.0.0/8'))
      .default([]),
    // How long a resolved and checked name is reused, ms (0: resolved for every request). The
    // system resolver reports no TTL: 10 s as undici's DNS interceptor, at most 5 min (the cap
    // @aegis/proxy enforces too) so an upstream that moved is found again.
    dns_cache_ttl: z
      .number()
      .int()
      .min(0, 'expected 0 (no cache) or more (ms)')
      .max(300_000, 'expected at most 300000 (ms, 5 min)')
      .default(10_000),
    // Most names kept; a wildcard allowlist lets an agent name unlimited hosts.
    dns_cache_size: z.number().int().min(1).max(1_000_000).default(1024),
  })

  const gate = z.strictObject({
    host: host.default('127.0.0.1'),
    port: port.default(3100),
    // Host names agents reach the gate by besides localhost and IP addresses (a container name,
    // a load balancer's name); any other Host is refused (DNS rebinding).
    allowed_hosts: allowedHosts.default([]),
    tls: tls.prefault({}),
    require_agent_auth: z.boolean().default(false),
    policy_mode: z.enum(POLICY_MODES).default('enforce'),
    policies_dir: filePath.optional(),
    policy_default: z.enum(POLICY_DEFAULTS).default('allow'),
    max_body_size: z.number().int().positive().default(1_048_576),
    strip_request_headers: z
      .array(
        z
          .string()
          .refine(isHttpToken, "expected an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)")
          .transform((name) => name.toLowerCase()),
      )
      .max(256)
      .default([]),
    agent_max_in_flight: z.number().int().positive().max(100_000).default(64),
    request_timeout: z.number().int().positive().max(MAX_TIMER_MS).default(30_000),
    shutdown_timeout: z.number().int().nonnegative().max(MAX_TIMER_MS).default(10_000),
    // Client connections: silent ones and slow header senders must not hold descriptors for long.
    idle_timeout: z.number().int().min(100, 'expected at least 100 (ms)').max(MAX_TIMER_MS).default(10_000),
    headers_timeout: z
      .number()
      .int()
      .min(100, 'expected at least 100 (ms)')
      .max(MAX_TIMER_MS)
      .default(10_000),
    max_connections: z.number().int().positive().max(1_000_000).default(512),
    // One header limit for every channel: the gate's parser (431) and the MCP tools (headers_too_large).
    max_header_size: z
      .number()
      .int()
      .min(1024, 'expected at least 1024 (bytes)')
      .max(1_048_576)
      .default(16_384),
    upstream: upstream.prefault({}),
  })

  const vault = z.strictObject({
    name: z
      .string()
      .regex(
        VAULT_NAME,
        'expected lower-case letters, digits, "-" or "_" (max 63, starting with a letter or digit)',
      )
      .default('default'),
    data_dir: filePath.default('./.aegis'),
    master_key: z.string().min(1, 'expected a non-empty key').optional(),
    // The KDF salt for vaults created from now on (aegis init, vault create): hex of 16 to 64 bytes
    // as vaults.json keeps it, or any other text (its SHA-256; see saltFromText in @aegis/vault). An
    // existing vault keeps its own; a different one here is an error naming the setting.
    salt: z.string().min(1, 'expected a non-empty salt').optional(),
  })

  const observability = z.strictObject({
    log_level: z.enum(LOG_LEVELS).default('info'),
    log_format: z.enum(LOG_FORMATS).default('json'),
    // A line per request besides the ledger row: refusals only by default, since the ledger already
    // records every request and a line per allowed request costs the gate ~6 % of its throughput.
    log_requests: z.enum(LOG_REQUESTS).default('refused'),
    // Served at /_aegis/metrics by the gate (see @aegis/telemetry for the metric set).
    metrics: z.boolean().default(true),
    // Required by a gate bound to a non-loopback address; when set, every scrape presents it.
    metrics_token: z
      .string()
      .min(16, 'expected at least 16 characters (e.g. openssl rand -hex 32)')
      .max(512, 'expected at most 512 characters')
      .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces (a bearer token)')
      .optional(),
    // Label aegis_requests_total by agent name (registered agents only): one series set per agent.
    metrics_agent_label: z.boolean().default(false),
  })

  return z.strictObject({
    gate: gate.prefault({}),
    vault: vault.prefault({}),
    observability: observability.prefault({}),
    // Budgets several gates share (Redis); without a URL every gate keeps its own, in memory.
    rate_limit: z
      .strictObject({
        failure_mode: z.enum(RATE_LIMIT_FAILURE_MODES).default('closed'),
        redis: z
          .strictObject({
            url: redisUrl.optional(),
            timeout_ms: z.number().int().min(1).max(10_000).default(250),
            prefix: z
              .string()
              .regex(/^[\x21-\x7e]{1,64}$/, 'expected 1 to 64 printable ASCII characters without spaces')
              .default('aegis:rate:'),
          })
          .prefault({}),
      })
      .prefault({}),
    // Shared state for several gates (PostgreSQL); without a URL each data dir keeps SQLite files.
    storage: z
      .strictObject({
        postgres: z
          .strictObject({
            url: postgresUrl.optional(),
            pool_max: z.number().int().min(1).max(1000).default(10),
            // The safety net behind LISTEN/NOTIFY: how often a gate compares change versions.
            poll_interval_ms: z
              .number()
              .int()
              .min(100, 'expected at least 100 (ms)')
              .max(MAX_TIMER_MS)
              .default(5000),
          })
          .prefault({}),
      })
      .prefault({}),
    dashboard: dashboard.prefault({}),
    mcp: z
      .strictObject({ transport: z.enum(MCP_TRANSPORTS).default('stdio'), port: port.default(3300) })
      .prefault({}),
    webhooks: z.array(webhook).default([]),
  })
}

/** The whole `aegis.config.yaml`: strict (unknown keys are errors), defaults applied, cross-field checks. */
export const configSchema = buildSchema(true)

/** Same shape without cross-field checks: validates one layer (file, env or flags) on its own. */
export const layerSchema = buildSchema(false)

/** The resolved configuration as the file shape (snake_case), paths absolute after loading. */
export type ConfigValues = z.output<typeof configSchema>

/** What a config file (or a layer of overrides) may contain. */
export type ConfigInput = z.input<typeof configSchema>
