export { formatPolicyError, PolicyError, type PolicyErrorInfo } from './errors.ts'
export { type DecideOptions, decideForAgent, evaluatePolicy } from './evaluate.ts'
export { buildPolicySet, isPolicyFileName, listPolicyFiles, loadPolicyDir } from './loader.ts'
export { checkPolicy, MAX_POLICY_FILE_SIZE, type PolicyCheck, parsePolicy } from './parse.ts'
export { MAX_MATCHED_PATH_LENGTH, MAX_PATTERN_LENGTH } from './path-pattern.ts'
export { EMPTY_POLICY_SET, type PolicyFileEntry, type PolicySet } from './policy-set.ts'
export { isAgentName } from './schema.ts'
export { windowOpen } from './time-window.ts'
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
} from './types.ts'
export { PolicyWatcher, type PolicyWatcherOptions } from './watcher.ts'
