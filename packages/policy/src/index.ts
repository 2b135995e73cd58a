export { formatPolicyError, PolicyError, type PolicyErrorInfo } from './errors.js'
export { type DecideOptions, decideForAgent, evaluatePolicy } from './evaluate.js'
// The loader's file listing, the path-pattern compiler's limits, the agent-name and time-window
// checks are internals of parsing and evaluation: `loadPolicyDir`, `parsePolicy` and
// `evaluatePolicy` / `decideForAgent` apply them.
export { loadPolicyDir } from './loader.js'
export { checkPolicy, MAX_POLICY_FILE_SIZE, type PolicyCheck, parsePolicy } from './parse.js'
export { EMPTY_POLICY_SET, type PolicyFileEntry, type PolicySet } from './policy-set.js'
export {
  type AgentPolicy,
  type PathPattern,
  POLICY_METHODS,
  type PolicyDecision,
  type PolicyMethod,
  type PolicyRequest,
  type PolicyRule,
  type RuleRate,
  type RuleRef,
  type TimeWindow,
} from './types.js'
export { PolicyWatcher, type PolicyWatcherOptions } from './watcher.js'
