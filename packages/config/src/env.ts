import { ConfigError, flattenIssues, formatKey, type KeyPath } from './errors.js'
import { LOG_FORMATS, LOG_LEVELS, LOG_REQUESTS, layerSchema, POLICY_MODES } from './schema.js'

type EnvKind =
  | { type: 'string' }
  | { type: 'secret' }
  | { type: 'port' }
  | { type: 'integer' }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }

/** One environment variable that overrides one config key. */
export interface EnvVariable {
  variable: string
  /** The config key it sets (path in the file shape). */
  key: readonly string[]
  kind: EnvKind
  description: string
}

/** Every environment variable that maps onto a config key (AEGIS_CONFIG picks the file instead). */
export const envVariables: readonly EnvVariable[] = [
  {
    variable: 'AEGIS_MASTER_KEY',
    key: ['vault', 'master_key'],
    kind: { type: 'secret' },
    description: 'vault master key',
  },
  {
    variable: 'AEGIS_DATA_DIR',
    key: ['vault', 'data_dir'],
    kind: { type: 'string' },
    description: 'data directory',
  },
  { variable: 'AEGIS_VAULT', key: ['vault', 'name'], kind: { type: 'string' }, description: 'active vault' },
  {
    variable: 'AEGIS_SALT',
    key: ['vault', 'salt'],
    kind: { type: 'string' },
    description: 'vault salt override',
  },
  {
    variable: 'AEGIS_GATE_HOST',
    key: ['gate', 'host'],
    kind: { type: 'string' },
    description: 'gate bind address',
  },
  { variable: 'AEGIS_GATE_PORT', key: ['gate', 'port'], kind: { type: 'port' }, description: 'gate port' },
  {
    variable: 'AEGIS_LOG_LEVEL',
    key: ['observability', 'log_level'],
    kind: { type: 'enum', values: LOG_LEVELS },
    description: 'log level',
  },
  {
    variable: 'AEGIS_LOG_FORMAT',
    key: ['observability', 'log_format'],
    kind: { type: 'enum', values: LOG_FORMATS },
    description: 'log format',
  },
  {
    variable: 'AEGIS_LOG_REQUESTS',
    key: ['observability', 'log_requests'],
    kind: { type: 'enum', values: LOG_REQUESTS },
    description: 'which requests get a log line',
  },
  {
    variable: 'AEGIS_METRICS_TOKEN',
    key: ['observability', 'metrics_token'],
    kind: { type: 'secret' },
    description: 'bearer token for /_aegis/metrics',
  },
  {
    variable: 'AEGIS_REDIS_URL',
    key: ['rate_limit', 'redis', 'url'],
    kind: { type: 'secret' },
    description: 'Redis for rate limits shared by several gates',
  },
  {
    variable: 'AEGIS_PG_URL',
    key: ['storage', 'postgres', 'url'],
    kind: { type: 'secret' },
    description: 'PostgreSQL holding the state several gates share',
  },
  {
    variable: 'AEGIS_DNS_CACHE_TTL',
    key: ['gate', 'upstream', 'dns_cache_ttl'],
    kind: { type: 'integer' },
    description: 'ms a resolved upstream name is reused (0: no DNS cache)',
  },
  {
    variable: 'AEGIS_REQUIRE_AGENT_AUTH',
    key: ['gate', 'require_agent_auth'],
    kind: { type: 'boolean' },
    description: 'require agent tokens',
  },
  {
    variable: 'AEGIS_POLICY_MODE',
    key: ['gate', 'policy_mode'],
    kind: { type: 'enum', values: POLICY_MODES },
    description: 'policy mode',
  },
  {
    variable: 'AEGIS_POLICIES_DIR',
    key: ['gate', 'policies_dir'],
    kind: { type: 'string' },
    description: 'policies directory',
  },
]

/**
 * `aegis mcp config` prints `<paste …>` where a secret goes (the master key, the agent and user
 * tokens, a database or Redis URL). A value still shaped like that was never filled in: hosts refuse
 * it by name before taking it as a key, a token or a URL (and misreading it as a wrong one).
 */
const PLACEHOLDER = /^<.*>$/

/** True when `value` is a `<paste …>`-style placeholder (surrounding whitespace ignored). */
export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.test(value.trim())
}

/** The first `AEGIS_*` variable (by name) that still holds a placeholder, or null. */
export function placeholderVariable(env: Readonly<Record<string, string | undefined>>): string | null {
  let first: string | null = null
  for (const name of Object.keys(env)) {
    const value = env[name]
    if (!name.startsWith('AEGIS_') || value === undefined || !isPlaceholder(value)) continue
    if (first === null || name < first) first = name
  }
  return first
}

const BOOLEANS: Record<string, boolean> = { true: true, '1': true, false: false, '0': false }

/** The environment's contribution, in the file shape, and which variable set which key. */
export interface EnvLayer {
  value: Record<string, unknown>
  origins: Map<string, string>
}

function envError(spec: EnvVariable, raw: string, message: string): ConfigError {
  const shown = spec.kind.type === 'secret' ? '' : `, got ${JSON.stringify(raw)}`
  return new ConfigError(`${spec.variable}: ${message}${shown}`, {
    variable: spec.variable,
    key: spec.key.join('.'),
  })
}

function convert(spec: EnvVariable, raw: string): unknown {
  const kind = spec.kind
  if (kind.type === 'port') {
    if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535)
      throw envError(spec, raw, 'expected an integer 0-65535')
    return Number(raw)
  }
  if (kind.type === 'integer') {
    // The range is the schema's to check; this only refuses what is not a whole number.
    if (!/^\d{1,15}$/.test(raw)) throw envError(spec, raw, 'expected a whole number')
    return Number(raw)
  }
  if (kind.type === 'boolean') {
    const value = BOOLEANS[raw.toLowerCase()]
    if (value === undefined) throw envError(spec, raw, 'expected true, false, 1 or 0')
    return value
  }
  if (kind.type === 'enum' && !kind.values.includes(raw)) {
    throw envError(spec, raw, `expected one of ${kind.values.join(', ')}`)
  }
  return raw
}

function setIn(target: Record<string, unknown>, key: readonly string[], value: unknown): void {
  let node = target
  for (const part of key.slice(0, -1)) {
    if (node[part] === undefined) node[part] = {}
    node = node[part] as Record<string, unknown>
  }
  const last = key[key.length - 1]
  if (last !== undefined) node[last] = value
}

/**
 * Reads the AEGIS_* variables into a partial config. Empty variables count as unset. Every value
 * is validated; the error names the variable (and never repeats AEGIS_MASTER_KEY's value).
 */
export function readEnvLayer(env: Record<string, string | undefined>): EnvLayer {
  const value: Record<string, unknown> = {}
  const origins = new Map<string, string>()
  const specs = new Map<string, EnvVariable>()
  for (const spec of envVariables) {
    const raw = env[spec.variable]
    if (raw === undefined || raw === '') continue
    setIn(value, spec.key, convert(spec, raw))
    origins.set(formatKey(spec.key), spec.variable)
    specs.set(formatKey(spec.key), spec)
  }
  const parsed = layerSchema.safeParse(value)
  if (!parsed.success) {
    const problem = flattenIssues(parsed.error.issues)[0]
    const spec = problem && specForPath(specs, problem.path)
    if (problem && spec) throw envError(spec, String(env[spec.variable]), problem.message)
    throw new ConfigError(`environment: ${problem?.message ?? 'invalid value'}`)
  }
  return { value, origins }
}

function specForPath(specs: Map<string, EnvVariable>, path: KeyPath): EnvVariable | undefined {
  for (let length = path.length; length > 0; length--) {
    const spec = specs.get(formatKey(path.slice(0, length)))
    if (spec) return spec
  }
  return undefined
}
