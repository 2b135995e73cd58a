/**
 * The policy file schema (zod, strict): shapes and field syntax. Semantic checks that need the
 * file's positions (regular expressions, zones, rates) happen in `parse.ts`.
 */
import { isAgentTokenShape, parseRate } from '@aegis/guard'
import { z } from 'zod'
import { compilePathPattern } from './path-pattern.js'
import { compileWindow } from './time-window.js'
import { POLICY_METHODS } from './types.js'

export const AGENT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
export const SERVICE_RE = /^[a-z0-9][a-z0-9_-]*$/
const MAX_SERVICE_LENGTH = 100

/**
 * True for a valid agent name (`[A-Za-z0-9][A-Za-z0-9._-]{0,63}`) that does not look like an agent
 * token: `aegis_` + 43 base64url characters fits the name syntax, and an operator who pasted the
 * token where the name goes must not see it loaded, listed and logged as a name (the vault refuses
 * such names too, so no agent could be meant).
 */
export function isAgentName(name: string): boolean {
  return AGENT_NAME_RE.test(name) && !isAgentTokenShape(name)
}

/** A string field whose messages say "required" and "expected a string" plainly. */
function text(what: string) {
  return z.string({
    error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string`),
  })
}

function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, {
    error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a list`),
  })
}

export const KNOWN_KEYS = {
  top: ['agent', 'rules'],
  rule: ['service', 'methods', 'paths', 'rate_limit', 'time_window'],
  window: ['start', 'end', 'timezone'],
} as const

const timeWindowSchema = z
  .strictObject(
    {
      // Their syntax is checked once, by compileWindow below (a regex here repeated each problem).
      start: text('start'),
      end: text('end'),
      timezone: text('timezone').optional(),
    },
    { error: 'time_window must be a mapping with start, end and timezone' },
  )
  .superRefine((input, ctx) => {
    const compiled = compileWindow(input)
    if (compiled.ok) return
    for (const p of compiled.problems) ctx.addIssue({ code: 'custom', message: p.reason, path: [p.field] })
  })

const pathPatternSchema = text('a path pattern').superRefine((source, ctx) => {
  const compiled = compilePathPattern(source, 0)
  if (!compiled.ok) ctx.addIssue({ code: 'custom', message: compiled.reason })
})

const rateSchema = text('rate_limit').superRefine((rate, ctx) => {
  try {
    parseRate(rate)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) })
  }
})

const ruleSchema = z.strictObject(
  {
    service: text('service')
      .max(MAX_SERVICE_LENGTH, `service names are at most ${MAX_SERVICE_LENGTH} characters`)
      .regex(SERVICE_RE, 'service must be lower-case letters, digits, "_" and "-" (e.g. slack)'),
    methods: list(
      z.enum(POLICY_METHODS, {
        error: `unknown method: use upper case ${POLICY_METHODS.join(', ')}`,
      }),
      'methods',
    )
      .min(1, 'methods is empty: list at least one method, or leave methods out to allow any')
      .optional(),
    paths: list(pathPatternSchema, 'paths')
      .min(1, 'paths is empty: list at least one pattern, or leave paths out to allow any path')
      .optional(),
    rate_limit: rateSchema.optional(),
    time_window: timeWindowSchema.optional(),
  },
  { error: 'each rule must be a mapping with at least service' },
)

export const policySchema = z.strictObject(
  {
    agent: text('agent')
      .regex(
        AGENT_NAME_RE,
        'invalid agent name: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      )
      .refine(
        (name) => !isAgentTokenShape(name),
        "this is an agent token, not a name: write the agent's name (and regenerate the token: it is in this file)",
      ),
    rules: list(ruleSchema, 'rules'),
  },
  { error: 'a policy file must be a mapping with agent and rules' },
)

export type PolicyInput = z.infer<typeof policySchema>
export type RuleInput = z.infer<typeof ruleSchema>
