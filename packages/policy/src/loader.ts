/**
 * loadPolicyDir: every `*.yaml` / `*.yml` file of a directory → a fail-closed PolicySet.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { decodeUtf8Text } from '@aegis/config'
import { PolicyError } from './errors.js'
import { checkPolicy, MAX_POLICY_FILE_SIZE } from './parse.js'
import type { PolicyFileEntry, PolicySet } from './policy-set.js'
import { isAgentName } from './schema.js'
import type { AgentPolicy } from './types.js'
import { readAgentName } from './yaml-source.js'

/** True for names the loader reads: `*.yaml` / `*.yml` (any case), not hidden (editor temp files). */
export function isPolicyFileName(name: string): boolean {
  return !name.startsWith('.') && /\.ya?ml$/i.test(name)
}

function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? 'unknown error'
}

function dirError(dir: string, reason: string): PolicyError {
  return new PolicyError({ file: dir, line: null, path: '', reason })
}

/** The policy file names of `dir`, sorted. Throws PolicyError when the directory cannot be listed. */
export function listPolicyFiles(dir: string): string[] {
  let names: string[]
  try {
    if (!statSync(dir).isDirectory()) throw dirError(dir, 'policies directory is not a directory')
    names = readdirSync(dir)
  } catch (error) {
    if (error instanceof PolicyError) throw error
    const code = errnoCode(error)
    throw dirError(
      dir,
      code === 'ENOENT' ? 'policies directory not found' : `cannot read policies directory (${code})`,
    )
  }
  const files: string[] = []
  for (const name of names.filter(isPolicyFileName).sort()) {
    try {
      if (statSync(join(dir, name)).isFile()) files.push(name)
    } catch {
      files.push(name) // unreadable or dangling: reported as a broken file, never skipped silently
    }
  }
  return files
}

function readEntry(file: string): PolicyFileEntry {
  let bytes: Buffer
  try {
    if (statSync(file).size > MAX_POLICY_FILE_SIZE) {
      return {
        file,
        agent: null,
        policy: null,
        errors: [
          new PolicyError({
            file,
            line: null,
            path: '',
            reason: `file larger than ${MAX_POLICY_FILE_SIZE} bytes`,
          }),
        ],
      }
    }
    bytes = readFileSync(file)
  } catch (error) {
    const reason = `cannot read policy file (${errnoCode(error)})`
    return {
      file,
      agent: null,
      policy: null,
      errors: [new PolicyError({ file, line: null, path: '', reason })],
    }
  }
  const decoded = decodeUtf8Text(bytes)
  if (!decoded.ok) {
    // Not text we can read: the agent line may still be, so only that agent is denied.
    const agent = readAgentName(bytes.toString('latin1'), undefined, isAgentName)
    const error = new PolicyError({ file, line: decoded.line, path: '', reason: decoded.reason })
    return { file, agent, policy: null, errors: [error] }
  }
  const result = checkPolicy(decoded.text, file)
  return result.ok
    ? { file, agent: result.policy.agent, policy: result.policy, errors: [] }
    : { file, agent: result.agent, policy: null, errors: result.errors }
}

/** Builds the fail-closed set from per-file entries (duplicate agents → both broken). */
export function buildPolicySet(entries: readonly PolicyFileEntry[]): PolicySet {
  const byAgent = new Map<string, PolicyFileEntry[]>()
  for (const entry of entries) {
    if (entry.agent === null) continue
    byAgent.set(entry.agent, [...(byAgent.get(entry.agent) ?? []), entry])
  }
  const final: PolicyFileEntry[] = entries.map((entry) => {
    const same = entry.agent === null ? [] : (byAgent.get(entry.agent) ?? [])
    if (same.length < 2) return entry
    const others = same.filter((e) => e !== entry).map((e) => e.file)
    const duplicate = new PolicyError({
      file: entry.file,
      line: null,
      path: 'agent',
      reason: `agent ${entry.agent} also has a policy in ${others.join(', ')}: one file per agent (the agent is denied everything until only one remains)`,
    })
    return { ...entry, policy: null, errors: [...entry.errors, duplicate] }
  })
  const policies = new Map<string, AgentPolicy>()
  const broken = new Map<string, PolicyError[]>()
  const unattributed: string[] = []
  for (const entry of final) {
    if (entry.errors.length === 0 && entry.policy !== null) {
      policies.set(entry.policy.agent, entry.policy)
      continue
    }
    const key = entry.agent ?? entry.file
    if (entry.agent === null) unattributed.push(entry.file)
    broken.set(key, [...(broken.get(key) ?? []), ...entry.errors])
  }
  return {
    policies,
    broken,
    unattributed,
    errors: final.flatMap((entry) => entry.errors),
    files: final.map((entry) => entry.file),
    entries: final,
  }
}

/**
 * Reads every policy file in `dir` (`*.yaml` / `*.yml`, hidden files ignored). A file that fails to
 * parse or validate makes its agent deny-all (see `PolicySet`). Throws `PolicyError` when the
 * directory is missing or unreadable; an empty directory is an empty set.
 */
export function loadPolicyDir(dir: string): PolicySet {
  return buildPolicySet(listPolicyFiles(dir).map((name) => readEntry(join(dir, name))))
}
