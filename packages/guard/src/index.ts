export { type AllowList, addressVerdict, parseAllowList } from './address.js'
export { AGENT_TOKEN_PREFIX, agentTokenKey, hashAgentToken, isAgentTokenShape } from './agent-token.js'
export {
  BODY_LINK_KEYS,
  isJsonContentType,
  JsonLinkRebaser,
  LINK_OBJECT_KEYS,
  rebaseJsonLinks,
} from './body-links.js'
export {
  browserRefusal,
  type HostAllowlist,
  hostAllowed,
  hostAllowlistProblem,
  parseHostAllowlist,
} from './caller.js'
export {
  DEFAULT_PORT,
  type DomainPattern,
  defaultTarget,
  findAllowlistMatch,
  matchesAllowlist,
  type ParseDomainPatternResult,
  type ParseTargetHostResult,
  parseDomainPattern,
  parseTargetHost,
} from './domain.js'
export {
  CREDENTIAL_REQUEST_HEADERS,
  forwardRequestHeaders,
  forwardResponseHeaders,
  isHttpToken,
} from './headers.js'
export { normalizeHostname } from './hostname.js'
export {
  hasLinkHeaders,
  type LinkRebase,
  rebaseLinkHeaders,
  rebaseLinkValue,
  rebaseReference,
} from './links.js'
export {
  type GatePath,
  type GatePathRefusal,
  INTERNAL_SERVICE,
  type SplitGatePathResult,
  splitGatePath,
} from './path.js'
export { escapeUnprintable } from './printable.js'
export {
  DELIVERY_CODES,
  type DeliveryCode,
  isDeliveryCode,
  isRefusalCode,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_PREFIX,
  type ProblemDocument,
  type ProblemErrorMember,
  problemDocument,
  problemOf,
  REFUSAL_STATUS,
  REFUSAL_TITLE,
  type Refusal,
  type RefusalCode,
  type RetryableCode,
  rateLimited,
  refuse,
  retryAfterMilliseconds,
  retryAfterSeconds,
  shouldRetry,
} from './problem.js'
export {
  parseRate,
  type Rate,
  RateLimiter,
  type RateLimiterOptions,
  type RateLimitStore,
  type RateReservation,
} from './rate.js'
export { isScope, neverForwarded, SCOPES, type Scope, scopeAllows } from './scope.js'
export {
  headerCanCarry,
  MIN_SECRET_BYTES,
  type SecretFlaw,
  type SecretProblem,
  secretProblems,
} from './secret.js'
export { parseStoredSettings, type StoredSettings } from './stored.js'
export { redactUrlPassword } from './url.js'
export {
  generateUserToken,
  hashUserToken,
  parseUserToken,
  USER_TOKEN_PATTERN,
  USER_TOKEN_PREFIX,
  type UserTokenParts,
} from './user-token.js'
export { RateLimitedWarning } from './warn-rate.js'
