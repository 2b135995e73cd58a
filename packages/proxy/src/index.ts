export { type AnonymousAccess, anonymousAccess, describeAnonymousAccess } from './anonymous.js'
export type { AuditEntry, AuditOutcome, AuditSink } from './audit.js'
export type { RequestContext } from './context.js'
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
export { Drain } from './drain.js'
export type { ForwardedOutcome, RefusedOutcome, ServiceSummary } from './engine.js'
export { type EngineOptions, GateEngine, type GateLimits, type Outcome } from './engine.js'
export {
  anonymousAccessFromConfig,
  ConfigFileError,
  connectionLimitsFromConfig,
  type PipelineConfig,
  pipelineOptionsFromConfig,
  readPem,
} from './from-config.js'
export { createGate, type Gate, type GateOptions, type ListeningAddress } from './gate.js'
export {
  type ConnectionLimits,
  connectionLimits,
  connectionServerOptions,
  DEFAULT_CONNECTION_LIMITS,
  guardConnections,
} from './http/connections.js'
export { lingerAfterAnswer } from './http/linger.js'
export { listenOn } from './http/listen.js'
export { type LogFn, type Logger, SILENT_LOGGER } from './logger.js'
export type {
  MetricsExposition,
  RateLimitScope,
  RequestObserver,
  RequestRecord,
  UpstreamRecord,
} from './observer.js'
export { runStages, type Stage } from './pipeline.js'
export { createPipeline, DEFAULT_LIMITS, type Pipeline, type PipelineOptions } from './setup.js'
export {
  buildSnapshot,
  type LiveAgent,
  type LiveCredential,
  LiveState,
  type SecretWarning,
  type Snapshot,
  type UnavailableAgent,
  type UnavailableService,
} from './snapshot.js'
export type { Channel, GateRequest, PolicyMode } from './types.js'
export { ByteCollector, collectBody } from './upstream/collect.js'
export type { DialTarget, LookupFunction, ResolveEntry } from './upstream/resolve.js'
