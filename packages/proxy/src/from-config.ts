import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { type AnonymousAccess, anonymousAccess } from './anonymous.js'
import type { AuditSink } from './audit.js'
import type { GateLimits } from './engine.js'
import type { ConnectionLimits } from './http/connections.js'
import type { Logger, RequestLogging } from './logger.js'
import type { PipelineOptions } from './setup.js'
import type { CredentialSource } from './snapshot.js'
import type { ResolveEntry } from './upstream/resolve.js'

/**
 * The configuration keys the pipeline reads (`gate.*` of aegis.config.yaml, as `@aegis/config`
 * resolves them). `AegisConfig` fits; a structural type keeps this package free of the config one.
 */
export interface PipelineConfig {
  gate: {
    max_body_size: number
    request_timeout: number
    agent_max_in_flight?: number
    /** Client connection limits of the HTTP channels (gate, MCP streamable HTTP), ms and a count. */
    idle_timeout?: number
    headers_timeout?: number
    max_connections?: number
    /** Largest request header block, bytes, on every channel (HTTP gate, MCP tools and HTTP server). */
    max_header_size?: number
    require_agent_auth: boolean
    /** Names agents reach the gate by besides localhost and IP addresses (HTTP channels only). */
    allowed_hosts?: readonly string[]
    /** Extra request header names never forwarded (lower-case). */
    strip_request_headers?: readonly string[]
    policy_mode: 'enforce' | 'dry-run' | 'off'
    policies_dir?: string | undefined
    policy_default: 'allow' | 'deny'
    upstream: {
      /** PEM files with extra CAs trusted for upstream TLS (read here, once). */
      ca_file: readonly string[]
      resolve: readonly ResolveEntry[]
      allow_private: readonly string[]
      /** ms a resolved name is reused (0: never) and how many names are kept. */
      dns_cache_ttl?: number
      dns_cache_size?: number
    }
  }
  /** What a request needing a budget gets while a shared store (Redis) cannot answer. */
  rate_limit?: { failure_mode: 'closed' | 'open' }
  observability?: { log_requests?: RequestLogging }
}

/** A configuration value that names a file that cannot be read. The message says which. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError'
}

/**
 * The pipeline settings for a configuration: one mapping, used by `aegis gate` and by the MCP
 * server alike, so both channels run with the same limits, upstream trust, identity and policies.
 */
export function pipelineOptionsFromConfig(
  config: PipelineConfig,
  deps: { credentials: CredentialSource; audit: AuditSink; logger: Logger },
): PipelineOptions & {
  limits: Partial<GateLimits> & Partial<ConnectionLimits>
  /** For the HTTP channels (`createGate`'s `allowedHosts`, the MCP HTTP server). */
  allowedHosts: readonly string[]
} {
  const gate = config.gate
  return {
    credentials: deps.credentials,
    audit: deps.audit,
    logger: deps.logger,
    ...(config.observability?.log_requests === undefined
      ? {}
      : { logRequests: config.observability.log_requests }),
    limits: {
      maxBodySize: gate.max_body_size,
      requestTimeout: gate.request_timeout,
      ...(gate.agent_max_in_flight === undefined ? {} : { agentMaxInFlight: gate.agent_max_in_flight }),
      // Read by the gate's HTTP server; the pipeline itself ignores them.
      ...connectionLimitsFromConfig(config),
    },
    upstream: {
      ca: gate.upstream.ca_file.map((file) => readCertificates(file, 'gate.upstream.ca_file')),
      resolve: gate.upstream.resolve,
      allowPrivate: gate.upstream.allow_private,
      ...(gate.upstream.dns_cache_ttl === undefined ? {} : { dnsCacheTtl: gate.upstream.dns_cache_ttl }),
      ...(gate.upstream.dns_cache_size === undefined ? {} : { dnsCacheSize: gate.upstream.dns_cache_size }),
    },
    requireAgentAuth: gate.require_agent_auth,
    allowedHosts: gate.allowed_hosts ?? [],
    ...(gate.strip_request_headers === undefined ? {} : { stripRequestHeaders: gate.strip_request_headers }),
    policies: policiesFromConfig(gate),
    // The shared store itself (Redis) is the host's to open and close: it passes `store` in.
    ...(config.rate_limit === undefined
      ? {}
      : { rateLimits: { failureMode: config.rate_limit.failure_mode } }),
  }
}

/**
 * The client connection limits set in the configuration (`gate.idle_timeout`, `headers_timeout`,
 * `max_connections`, `max_header_size`, with `request_timeout`); keys left out keep their defaults.
 */
export function connectionLimitsFromConfig(config: PipelineConfig): Partial<ConnectionLimits> {
  const gate = config.gate
  return {
    requestTimeout: gate.request_timeout,
    ...(gate.idle_timeout === undefined ? {} : { idleTimeout: gate.idle_timeout }),
    ...(gate.headers_timeout === undefined ? {} : { headersTimeout: gate.headers_timeout }),
    ...(gate.max_connections === undefined ? {} : { maxConnections: gate.max_connections }),
    ...(gate.max_header_size === undefined ? {} : { maxHeaderSize: gate.max_header_size }),
  }
}

/** Policies apply when there is a policies folder or the default denies; otherwise there are none. */
function policiesFromConfig(gate: PipelineConfig['gate']): PipelineOptions['policies'] {
  return gate.policies_dir === undefined && gate.policy_default === 'allow'
    ? undefined
    : { dir: gate.policies_dir, mode: gate.policy_mode, defaultPolicy: gate.policy_default }
}

/** What the pipeline built from this configuration does with requests without an agent token. */
export function anonymousAccessFromConfig(config: PipelineConfig): AnonymousAccess {
  return anonymousAccess({
    requireAgentAuth: config.gate.require_agent_auth,
    policies: policiesFromConfig(config.gate),
  })
}

/** Reads a PEM file named by a config key, or throws a `ConfigFileError` naming key and file. */
export function readPem(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable'
    throw new ConfigFileError(`Cannot read ${key} ${file} (${code})`)
  }
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/**
 * Reads a PEM file that must hold one or more certificates (a CA bundle, a server certificate) and
 * checks each parses. Without this, a private key or a stray file given as a CA is silently trusted
 * as nothing, and a bad server certificate surfaces as a bare OpenSSL code naming no file.
 */
export function readCertificates(file: string, key: string): string {
  const text = readPem(file, key)
  const blocks = text.match(CERTIFICATE_BLOCK) ?? []
  if (blocks.length === 0) {
    throw new ConfigFileError(
      `${key} ${file} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----${
        /PRIVATE KEY-----/.test(text) ? '; it holds a private key' : ''
      })`,
    )
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block)
    } catch {
      throw new ConfigFileError(
        `${key} ${file}: certificate ${index + 1} of ${blocks.length} is not valid PEM`,
      )
    }
  })
  return text
}

/**
 * Reads the gate's TLS certificate and private key (`gate.tls.cert`, `gate.tls.key`) and checks they
 * are what they claim and belong together, so a swapped, damaged or mismatched pair is an error
 * naming the key and file rather than an OpenSSL code. The key's text never appears in a message.
 */
export function readTlsPair(certFile: string, keyFile: string): { cert: string; key: string } {
  const cert = readCertificates(certFile, 'gate.tls.cert')
  const key = readPem(keyFile, 'gate.tls.key')
  let privateKey: ReturnType<typeof createPrivateKey>
  try {
    privateKey = createPrivateKey(key)
  } catch {
    throw new ConfigFileError(
      `gate.tls.key ${keyFile} holds no usable PEM private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA/EC PRIVATE KEY-----, unencrypted)`,
    )
  }
  const leaf = new X509Certificate((cert.match(CERTIFICATE_BLOCK) ?? [cert])[0] as string)
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new ConfigFileError(
      `gate.tls.key ${keyFile} does not belong to gate.tls.cert ${certFile} (the key's public half differs from the certificate's)`,
    )
  }
  return { cert, key }
}
