export { formatPolicyError, PolicyError, type PolicyErrorInfo } from './errors.js'
export { type DecideOptions, decideForAgent, evaluatePolicy } from './evaluate.js'
export { buildPolicySet, isPolicyFileName, listPolicyFiles, loadPolicyDir } from './loader.js'
export { checkPolicy, MAX_POLICY_FILE_SIZE, type PolicyCheck, parsePolicy } from './parse.js'
export { MAX_MATCHED_PATH_LENGTH, MAX_PATTERN_LENGTH } from './path-pattern.js'
export { EMPTY_POLICY_SET, type PolicyFileEntry, type PolicySet } from './policy-set.js'
export { isAgentName } from './schema.js'
export { windowOpen } from './time-window.js'
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
