/**
 * parsePolicy / checkPolicy: YAML text → validated, compiled AgentPolicy, or located errors.
 */
import { createHash } from 'node:crypto'
import { parseRate, type Rate } from '@aegis/guard'
import type { z } from 'zod'
import { PolicyError } from './errors.js'
import { compilePathPattern } from './path-pattern.js'
import { isAgentName, KNOWN_KEYS, type PolicyInput, policySchema, type RuleInput } from './schema.js'
import { compileWindow } from './time-window.js'
import type { AgentPolicy, PathPattern, PolicyRule, TimeWindow } from './types.js'
import { type FieldPath, readAgentName, readYaml, type YamlSource } from './yaml-source.js'

/** Largest policy file accepted (bytes of UTF-16 text, roughly). */
export const MAX_POLICY_FILE_SIZE = 1024 * 1024

/** The result of checking one policy file: the policy, or every error found and the agent if readable. */
export type PolicyCheck =
  | { ok: true; policy: AgentPolicy }
  | { ok: false; agent: string | null; errors: PolicyError[] }

/** `rules[0].paths[1]` for `['rules', 0, 'paths', 1]`. */
export function dottedPath(path: FieldPath): string {
  let out = ''
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`
  return out
}

function knownKeysAt(path: FieldPath): readonly string[] {
  if (path.length === 0) return KNOWN_KEYS.top
  if (path.length === 2) return KNOWN_KEYS.rule
  return KNOWN_KEYS.window
}

function issueErrors(file: string, source: YamlSource, issues: readonly z.core.$ZodIssue[]): PolicyError[] {
  const errors: PolicyError[] = []
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const at = [...path, key]
        errors.push(
          new PolicyError({
            file,
            line: source.lineOf(at),
            path: dottedPath(at),
            reason: `unknown key (allowed: ${knownKeysAt(path).join(', ')})`,
          }),
        )
      }
      continue
    }
    errors.push(
      new PolicyError({ file, line: source.lineOf(path), path: dottedPath(path), reason: issue.message }),
    )
  }
  return errors
}

/** Stable short hash of a rule's meaning, so an edited rule gets a fresh budget key. */
function ruleVersion(rule: RuleInput): string {
  const canonical = JSON.stringify([
    rule.service,
    rule.methods ?? null,
    rule.paths ?? null,
    rule.rate_limit ?? null,
    rule.time_window
      ? [rule.time_window.start, rule.time_window.end, rule.time_window.timezone ?? 'UTC']
      : null,
  ])
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12)
}

interface Problem {
  path: FieldPath
  reason: string
}

function compileRule(
  agent: string,
  rule: RuleInput,
  index: number,
  source: YamlSource,
  problems: Problem[],
): PolicyRule | null {
  const at: FieldPath = ['rules', index]
  const before = problems.length
  const paths: PathPattern[] = []
  for (const [i, text] of (rule.paths ?? []).entries()) {
    const compiled = compilePathPattern(text, source.lineOf([...at, 'paths', i]))
    if (compiled.ok) paths.push(compiled.pattern)
    else problems.push({ path: [...at, 'paths', i], reason: compiled.reason })
  }
  let rate: Rate | null = null
  if (rule.rate_limit !== undefined) {
    try {
      rate = parseRate(rule.rate_limit)
    } catch (error) {
      problems.push({
        path: [...at, 'rate_limit'],
        reason: error instanceof Error ? error.message : String(error),
      })
    }
  }
  let window: TimeWindow | null = null
  if (rule.time_window) {
    const compiled = compileWindow(rule.time_window)
    if (compiled.ok) window = compiled.window
    else
      for (const p of compiled.problems)
        problems.push({ path: [...at, 'time_window', p.field], reason: p.reason })
  }
  if (problems.length > before) return null
  return {
    index,
    line: source.lineOf(at),
    service: rule.service,
    methods: rule.methods ? new Set(rule.methods) : null,
    paths: rule.paths ? paths : null,
    rate,
    window,
    rateKey: `policy:${agent}:${index}:${ruleVersion(rule)}`,
  }
}

/**
 * Checks a policy file and collects every error (each located by line and field). Never throws.
 * `file` is used in messages and rule references as given.
 */
export function checkPolicy(text: string, file: string): PolicyCheck {
  const fail = (agent: string | null, errors: PolicyError[]): PolicyCheck => ({ ok: false, agent, errors })
  if (text.length > MAX_POLICY_FILE_SIZE) {
    return fail(null, [
      new PolicyError({
        file,
        line: null,
        path: '',
        reason: `file larger than ${MAX_POLICY_FILE_SIZE} bytes`,
      }),
    ])
  }
  const source = readYaml(text)
  const agent = readAgentName(text, source.value, isAgentName)
  if (source.syntax) {
    const { line, path, reason } = source.syntax
    return fail(agent, [new PolicyError({ file, line, path: path === null ? '' : dottedPath(path), reason })])
  }
  if (source.value === null || source.value === undefined) {
    return fail(agent, [
      new PolicyError({ file, line: 1, path: '', reason: 'empty policy file: expected agent and rules' }),
    ])
  }
  const parsed = policySchema.safeParse(source.value)
  if (!parsed.success) {
    const errors = issueErrors(file, source, parsed.error.issues)
    return fail(
      agent,
      errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    )
  }
  const input: PolicyInput = parsed.data
  const problems: Problem[] = []
  const rules: PolicyRule[] = []
  for (const [index, rule] of input.rules.entries()) {
    const compiled = compileRule(input.agent, rule, index, source, problems)
    if (compiled) rules.push(compiled)
  }
  if (problems.length > 0) {
    return fail(
      input.agent,
      problems.map(
        (p) =>
          new PolicyError({ file, line: source.lineOf(p.path), path: dottedPath(p.path), reason: p.reason }),
      ),
    )
  }
  return { ok: true, policy: { agent: input.agent, file, rules } }
}

/**
 * Parses and validates one policy file. Throws the first `PolicyError`
 * (`file:line: rules[0].paths[1]: invalid regular expression: …`).
 */
export function parsePolicy(text: string, file: string): AgentPolicy {
  const result = checkPolicy(text, file)
  if (result.ok) return result.policy
  const [first] = result.errors
  throw first ?? new PolicyError({ file, line: null, path: '', reason: 'invalid policy file' })
}
