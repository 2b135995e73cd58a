import { type Refusal, refuse } from '@aegis/guard'
import type { z } from 'zod'
import type { ProxyRequestArgs } from './request.js'

/** What each argument must be, as a refusal says it; the rest are strings. */
const EXPECTED: Readonly<Record<string, string>> = {
  headers: 'an object of header names to string values',
}

/**
 * The refusal for arguments that are not of the advertised types (`bad_request`), naming each
 * argument that is missing or wrong — by the schema's own names, never an agent's header name
 * or value.
 */
export function typeRefusal(error: z.ZodError, input: Readonly<Record<string, unknown>>): Refusal {
  const problems: string[] = []
  const named = new Set<string>()
  for (const issue of error.issues) {
    const [first] = issue.path
    if (typeof first !== 'string' || named.has(first)) continue
    named.add(first)
    const expected = EXPECTED[first] ?? 'a string'
    problems.push(
      input[first] === undefined ? `${first} is required: ${expected}` : `${first} must be ${expected}`,
    )
  }
  return refuse(
    'bad_request',
    problems.length === 0 ? 'The arguments are not an object' : problems.join('; '),
  )
}

/**
 * The request a call with wrong-typed arguments stands for, for its ledger row: the arguments of
 * the right type as they are, the others absent — an unreadable method is `UNKNOWN`, as the gate
 * records a request line it cannot read.
 */
export function recordableArguments(input: Readonly<Record<string, unknown>>): ProxyRequestArgs {
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
  const headers: Record<string, string> = {}
  if (typeof input.headers === 'object' && input.headers !== null && !Array.isArray(input.headers)) {
    for (const [name, value] of Object.entries(input.headers)) {
      if (typeof value === 'string') headers[name] = value
    }
  }
  return {
    service: text(input.service) ?? '',
    path: text(input.path) ?? '',
    method: input.method === undefined ? 'GET' : (text(input.method) ?? 'UNKNOWN'),
    headers,
    body: text(input.body),
    targetHost: text(input.targetHost),
  }
}
