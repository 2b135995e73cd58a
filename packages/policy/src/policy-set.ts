/**
 * PolicySet: every policy file of a directory, loaded; what the gate decides against.
 */
import type { PolicyError } from './errors.js'
import type { AgentPolicy } from './types.js'

/** One file of the directory and what became of it. */
export interface PolicyFileEntry {
  file: string
  /** The agent the file is for, when it can be read (even from a broken file). */
  agent: string | null
  /** The policy, when the file is valid and its agent has no other file. */
  policy: AgentPolicy | null
  errors: readonly PolicyError[]
}

/** The loaded policies of one directory. */
export interface PolicySet {
  /** Valid policies by agent name. */
  policies: ReadonlyMap<string, AgentPolicy>
  /**
   * Agents denied everything because their file failed to load (or two files name them), by
   * agent name; files whose agent cannot be read are keyed by file path (see `unattributed`).
   */
  broken: ReadonlyMap<string, readonly PolicyError[]>
  /** Files (keys of `broken`) whose agent cannot be read: every agent without a valid policy is denied. */
  unattributed: readonly string[]
  /** Every error of every file (and of the directory), in file order. */
  errors: readonly PolicyError[]
  /** The policy files read, in name order. */
  files: readonly string[]
  /** Per-file detail, in name order. */
  entries: readonly PolicyFileEntry[]
}

/** A set with no policies and no errors (e.g. when no policies directory is configured). */
export const EMPTY_POLICY_SET: PolicySet = Object.freeze({
  policies: new Map<string, AgentPolicy>(),
  broken: new Map<string, readonly PolicyError[]>(),
  unattributed: [],
  errors: [],
  files: [],
  entries: [],
})
