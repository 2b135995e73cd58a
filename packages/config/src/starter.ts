export interface StarterOptions {
  /** Written as `vault.master_key` only when given (`aegis init --write-secrets`). */
  masterKey?: string | undefined
  /** `vault.data_dir` (default `./.aegis`, relative to this file). */
  dataDir?: string | undefined
}

/** A YAML scalar that reads back as exactly `text` (a JSON string is a valid double-quoted scalar). */
function quote(text: string): string {
  return JSON.stringify(text)
}

/**
 * The commented `aegis.config.yaml` that `aegis init` writes. Valid as it stands; every value shown is
 * the built-in default unless given here.
 */
export function starterConfigYaml(opts: StarterOptions = {}): string {
  const masterKey =
    opts.masterKey === undefined
      ? '  # master_key: set AEGIS_MASTER_KEY instead of storing the key here'
      : [
          '  # The vault master key. Anyone who can read this file can decrypt the vault:',
          '  # keep the file mode 0600, and prefer AEGIS_MASTER_KEY in production.',
          `  master_key: ${quote(opts.masterKey)}`,
        ].join('\n')
  return `# Aegis configuration. Precedence: CLI flags > AEGIS_* environment variables > this file > defaults.
# Relative paths below resolve against this file's folder.

gate:
  host: 127.0.0.1            # bind address (AEGIS_GATE_HOST)
  port: 3100                 # 0 picks a free port (AEGIS_GATE_PORT)
  allowed_hosts: []          # names agents use besides localhost and IPs (e.g. [aegis, "*.svc.cluster.local"])
  require_agent_auth: false  # require X-Aegis-Agent tokens (AEGIS_REQUIRE_AGENT_AUTH)
  policy_mode: enforce       # enforce | dry-run | off (AEGIS_POLICY_MODE)
  policy_default: allow      # allow | deny, for agents without a policy file
  # policies_dir: ./policies # (AEGIS_POLICIES_DIR)
  max_body_size: 1048576     # bytes
  # strip_request_headers: [x-my-api-key]   # never forwarded, beyond the built-in credential headers
  agent_max_in_flight: 64    # concurrent requests per agent
  request_timeout: 30000     # ms
  shutdown_timeout: 10000    # ms
  idle_timeout: 10000        # ms an open connection may wait for a request (first or keep-alive)
  headers_timeout: 10000     # ms to receive a whole request header block
  max_connections: 512       # open client connections; more are closed as they arrive
  max_header_size: 16384     # bytes of request headers, on the gate and the MCP tools alike
  # tls:                     # HTTPS on the gate; enabled when cert and key are both given
  #   cert: ./certs/aegis.crt
  #   key: ./certs/aegis.key
  # upstream:
  #   ca_file: ./certs/internal-ca.pem         # extra CAs trusted for upstream TLS
  #   resolve:                                 # static address overrides, like curl --resolve
  #     "api.example.com:443": "127.0.0.1:8443"
  #   allow_private: [10.0.0.0/8]              # private ranges the gate may dial
  #   dns_cache_ttl: 10000                     # ms a resolved name is reused; 0 = every request (AEGIS_DNS_CACHE_TTL)
  #   dns_cache_size: 1024                     # names kept at most

vault:
  name: default              # (AEGIS_VAULT)
  data_dir: ${quote(opts.dataDir ?? './.aegis')}   # (AEGIS_DATA_DIR)
${masterKey}

observability:
  log_level: info            # fatal | error | warn | info | debug | trace | silent (AEGIS_LOG_LEVEL)
  log_format: json           # json | pretty (AEGIS_LOG_FORMAT)
  log_requests: refused      # off | refused | all: a log line per request (AEGIS_LOG_REQUESTS); the ledger has every one
  metrics: true              # Prometheus metrics at /_aegis/metrics on the gate
  # metrics_token: set AEGIS_METRICS_TOKEN instead; required when gate.host is not loopback
  metrics_agent_label: false # label aegis_requests_total by agent name

rate_limit:
  failure_mode: closed       # closed | open: a request needing a budget while Redis is down
  redis:                     # share budgets between several gates (else each gate keeps its own)
    # url: set AEGIS_REDIS_URL instead (redis://host:6379 or rediss:// for TLS)
    timeout_ms: 250          # longest wait for Redis per budget check
    prefix: "aegis:rate:"    # gates that share budgets use the same prefix

# Several gates sharing one vault, ledger, agents and users: PostgreSQL (then aegis storage migrate).
# Without it every data directory keeps its own SQLite files.
# storage:
#   postgres:
#     url: set AEGIS_PG_URL instead (postgres://user:password@host:5432/aegis)
#     pool_max: 10             # connections per gate
#     poll_interval_ms: 5000   # safety net behind LISTEN/NOTIFY change propagation

dashboard:
  enabled: false             # true: aegis gate serves the dashboard too (aegis dashboard always does)
  host: 127.0.0.1            # the dashboard binds here
  port: 3200
  allowed_hosts: []          # extra Host names the dashboard answers (localhost names and IPs always)

mcp:
  transport: stdio           # stdio | http
  port: 3300

webhooks: []
# webhooks:
#   - url: https://hooks.example.com/aegis
#     events: [blocked_request, credential_expiry]
#     secret: your-hmac-signing-secret
`
}
