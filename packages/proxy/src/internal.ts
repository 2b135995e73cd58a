/**
 * @aegis/proxy/internal — NOT part of the public API and not covered by semver: any release may
 * change or remove these. They are the pieces the Aegis apps and `@aegis/mcp` share with the HTTP
 * gate (one drain, one set of client-connection limits, one body collector, the config helpers
 * only the CLI needs), published in the same release as this package. Embedders use
 * `@aegis/proxy`.
 */
// The local admin channel (unseal/seal a running gate over a Unix socket): the CLI's, not an embedder's.

export { RateLimitedWarning } from '@aegis/guard'
export { type AdminCall, type AdminReply, callAdmin, isNotListening } from './admin/client.js'
export {
  type AdminAuthorize,
  type AdminHandlers,
  type AdminServer,
  type AdminServerOptions,
  type AdminStatus,
  createAdminServer,
} from './admin/server.js'
export { ADMIN_SOCKET, adminSockets } from './admin/socket.js'
export { Drain } from './drain.js'
export { deliveryFailureCode, deliveryFailureDetail, isResponseTooLarge } from './errors.js'
export {
  anonymousAccessFromConfig,
  connectionLimitsFromConfig,
  readTlsPair,
} from './from-config.js'
export { agentIdentity } from './http/agent-token.js'
export { refuseConnect } from './http/connect.js'
export { connectionLimits, connectionServerOptions, guardConnections } from './http/connections.js'
export { lingerAfterAnswer } from './http/linger.js'
export { listenOn } from './http/listen.js'
export { ProtocolRefusals, type ProtocolRefusalsOptions } from './http/protocol.js'
export { sendRefusal } from './http/respond.js'
export { StopSignals, type StopSignalsOptions } from './stop-signals.js'
export { ByteCollector, collectBody } from './upstream/collect.js'
