export type { AuditEntry, AuditOutcome, AuditSink } from './audit.js'
export type { RequestContext } from './context.js'
export type { ForwardedOutcome, RefusedOutcome, ServiceSummary } from './engine.js'
export { type EngineOptions, GateEngine, type GateLimits, type Outcome } from './engine.js'
export { ConfigFileError, type PipelineConfig, pipelineOptionsFromConfig, readPem } from './from-config.js'
export { createGate, type Gate, type GateOptions, type ListeningAddress } from './gate.js'
export { listenOn } from './http/listen.js'
export { runStages, type Stage } from './pipeline.js'
export { createPipeline, DEFAULT_LIMITS, type Pipeline, type PipelineOptions } from './setup.js'
export {
  type AgentRecord,
  buildSnapshot,
  type CredentialLoad,
  type CredentialSource,
  type LiveAgent,
  type LiveCredential,
  LiveState,
  type SecretWarning,
  type Snapshot,
  type UnavailableService,
} from './snapshot.js'
export type { Channel, GateRequest, PolicyMode } from './types.js'
export type { DialTarget, LookupFunction, ResolveEntry } from './upstream/resolve.js'
