/**
 * @aegis/proxy — the Aegis gate as a library: one request pipeline (identity, grants, scopes,
 * policies, destination checks, budgets, outbound inspection), credential injection, upstream
 * forwarding and response redaction. This list is the public, semver-stable surface; what the
 * Aegis apps share beyond it lives in `@aegis/proxy/internal` and may change in any release.
 */
// An embedder's stage refuses with guard's refusal vocabulary: re-exported so that a host needs
// no second import (and no second copy of @aegis/guard) to write one.
export { type ProblemDocument, type Refusal, type RefusalCode, refuse } from '@aegis/guard'
export type { AnonymousAccess } from './anonymous.js'
export type { AuditEntry, AuditOutcome, AuditSink } from './audit.js'
export type {
  AgentRecord,
  AuthType,
  BodyInspection,
  CredentialLoad,
  CredentialSource,
  SecretValue,
  SourceCredential,
  SourceUnavailableCredential,
} from './credentials.js'
export type { Stage, StageContext } from './embedder-stage.js'
export type {
  ForwardedOutcome,
  GateEngine,
  GateLimits,
  Outcome,
  RefusedOutcome,
  ServiceSummary,
} from './engine.js'
// A type only: the engine is built by `createPipeline` from the public options, never by hand.
// How a channel ties a request to its client, to `abandon` it when the client goes away.
export { ClientLink } from './engine.js'
export { ConfigFileError, type PipelineConfig, pipelineOptionsFromConfig } from './from-config.js'
export { createGate, type Gate, type GateOptions, type ListeningAddress } from './gate.js'
export type { HealthReport } from './health.js'
export { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './http/connections.js'
export { type LogFn, type Logger, SILENT_LOGGER } from './logger.js'
export type {
  MetricsExposition,
  RateLimitScope,
  RequestObserver,
  RequestRecord,
  UpstreamRecord,
} from './observer.js'
export { createPipeline, DEFAULT_LIMITS, type Pipeline, type PipelineOptions } from './setup.js'
export type { LiveAgent, LiveCredential } from './snapshot.js'
export type { Channel, GateRequest, PolicyMode } from './types.js'
export type { DialTarget, LookupAnswer, LookupFunction, ResolveEntry } from './upstream/resolve.js'
