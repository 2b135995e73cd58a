/**
 * The environment `aegis run` gives an agent: each SDK's own base-URL and API-key variables pointing
 * at the gate, with the agent token in the key slot (the gate takes it from `Authorization: Bearer`,
 * `x-api-key` or `x-goog-api-key` when it is agent-token shaped). Variables checked in each SDK's
 * source (phase2-notes §7.5).
 */

/**
 * Service-name convention: a provider's variables are set only when a credential serves the service
 * of this name, so `aegis vault add --service openai …` is what makes `OPENAI_*` appear.
 */
export const PROVIDERS = [
  // openai-node / openai-python: `baseURL = readEnv('OPENAI_BASE_URL')`; the SDK appends `/chat/completions`.
  { service: 'openai', baseVar: 'OPENAI_BASE_URL', path: '/openai/v1', keyVar: 'OPENAI_API_KEY' },
  // @anthropic-ai/sdk and Claude Code: the SDK appends `/v1/messages`; the key goes out as `x-api-key`.
  { service: 'anthropic', baseVar: 'ANTHROPIC_BASE_URL', path: '/anthropic', keyVar: 'ANTHROPIC_API_KEY' },
  // Gemini CLI (`GOOGLE_GEMINI_BASE_URL`); the key goes out as `x-goog-api-key`.
  { service: 'gemini', baseVar: 'GOOGLE_GEMINI_BASE_URL', path: '/gemini', keyVar: 'GEMINI_API_KEY' },
] as const

/**
 * Never handed to the agent: the master key opens every secret, a user token is an operator's RBAC
 * identity, the shared stores' URLs carry their passwords (with the PostgreSQL one an agent could
 * grant itself every credential and erase its ledger rows, with the Redis one delete its budgets —
 * past the gate), and the metrics token guards the gate's metrics. (A variable holding a vault
 * secret's value is removed too; see `agentEnv`.)
 */
const WITHHELD = [
  'AEGIS_MASTER_KEY',
  'AEGIS_USER_TOKEN',
  'AEGIS_PG_URL',
  'AEGIS_REDIS_URL',
  'AEGIS_METRICS_TOKEN',
] as const

export interface AgentEnvInput {
  parent: Readonly<Record<string, string | undefined>>
  gateUrl: string
  token: string
  /** Services some credential serves. */
  services: ReadonlySet<string>
  /** Every vault secret's value: a variable that contains one is not passed on. */
  secrets: readonly string[]
}

export interface AgentEnv {
  env: Record<string, string>
  /** `NAME=value` for what was set, the token shown as `<agent token>`. */
  set: string[]
  /** Names of variables removed from the parent's environment. */
  removed: string[]
}

export function agentEnv(input: AgentEnvInput): AgentEnv {
  const env: Record<string, string> = {}
  const removed: string[] = []
  for (const [name, value] of Object.entries(input.parent)) {
    if (value === undefined) continue
    const holdsSecret = input.secrets.some((secret) => secret !== '' && value.includes(secret))
    if (holdsSecret || (WITHHELD as readonly string[]).includes(name)) removed.push(name)
    else env[name] = value
  }
  const set: string[] = []
  const put = (name: string, value: string, shown = value) => {
    env[name] = value
    set.push(`${name}=${shown}`)
  }
  const gate = input.gateUrl.replace(/\/+$/, '')
  for (const provider of PROVIDERS) {
    if (!input.services.has(provider.service)) continue
    put(provider.baseVar, `${gate}${provider.path}`)
    put(provider.keyVar, input.token, '<agent token>')
  }
  put('AEGIS_GATE_URL', gate)
  put('AEGIS_AGENT_TOKEN', input.token, '<agent token>')
  // SDKs honour HTTP(S)_PROXY, and the gate must be reached directly: a proxy would get the agent
  // token. curl, Python (urllib, requests, httpx) and undici read the lower-case `no_proxy` first,
  // so setting `NO_PROXY` alone sent the gate's traffic through a proxy whenever `no_proxy` was set.
  // Both get every host either named, loopback and the gate's own host.
  const noProxy = noProxyList([env.no_proxy, env.NO_PROXY, '127.0.0.1,localhost', new URL(gate).hostname])
  put('NO_PROXY', noProxy)
  put('no_proxy', noProxy)
  return { env, set, removed: removed.sort() }
}

/** The comma-separated hosts of every list, once each, in order (an IPv6 host without brackets). */
function noProxyList(lists: readonly (string | undefined)[]): string {
  const hosts = new Set<string>()
  for (const list of lists) {
    for (const entry of (list ?? '').split(',')) {
      const host = entry.trim().replace(/^\[(.*)\]$/, '$1')
      if (host !== '') hosts.add(host)
    }
  }
  return [...hosts].join(',')
}

/** The gate's URL from its listen address: a wildcard bind is reached on loopback. */
export function gateUrlFrom(host: string, port: number, tls: boolean): string {
  let h = host
  if (h === '0.0.0.0' || h === '') h = '127.0.0.1'
  if (h === '::') h = '::1'
  if (h.includes(':')) h = `[${h}]`
  return `${tls ? 'https' : 'http'}://${h}:${port}`
}
