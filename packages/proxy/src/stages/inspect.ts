import { refuse } from '@aegis/guard'
import {
  buildMatcher,
  DecodeError,
  decodeBody,
  type Finding,
  inspectOutbound,
  type SecretMatcher,
} from '@aegis/inspect'
import type { RequestContext } from '../context.js'
import type { Stage } from '../pipeline.js'
import type { LiveAgent } from '../snapshot.js'
import { collectBody } from '../upstream/collect.js'
import { requestHeader, upstreamHeaders } from '../upstream/headers.js'

/** How far a compressed body may expand for scanning, relative to the body size limit. */
const DECODE_FACTOR = 8

/** The calling agent's own token, matched in every encoding; built once per agent per snapshot. */
const tokenMatchers = new WeakMap<LiveAgent, SecretMatcher>()

function agentTokenMatcher(agent: LiveAgent, token: string): SecretMatcher {
  let matcher = tokenMatchers.get(agent)
  if (matcher === undefined) {
    matcher = buildMatcher([{ value: token, kind: 'agent-token' }])
    tokenMatchers.set(agent, matcher)
  }
  return matcher
}

/** `kind in where (encoding)`, for the agent (no values, ever). */
function describe(findings: readonly Finding[]): string {
  return findings
    .slice(0, 5)
    .map((f) => `${f.kind} in the ${f.where}${f.encoding === 'raw' ? '' : ` (${f.encoding})`}`)
    .join(', ')
}

/** The ledger's short form: `warn:credential:slack-bot:body,format:github-token:query`. */
function summary(findings: readonly Finding[]): string {
  const text = `warn:${findings.map((f) => `${f.kind}:${f.where}`).join(',')}`
  return text.length > 200 ? text.slice(0, 200) : text
}

async function readBody(
  ctx: RequestContext,
  limit: number,
): Promise<Uint8Array | null | 'too_large' | 'unreadable'> {
  const body = ctx.req.body
  if (body === null || body instanceof Uint8Array) return body
  let bytes: Buffer | null
  try {
    bytes = await collectBody(body, limit)
  } catch {
    return 'unreadable'
  }
  if (bytes === null) return 'too_large'
  ctx.bodyBytes = bytes
  return bytes
}

/**
 * Outbound inspection (per credential: off, warn, block). The body, query, path and every header
 * that would be forwarded are searched for any vault secret and the caller's own agent token, in
 * raw and encoded forms, and for well-known credential formats. A compressed body is decoded for
 * scanning (bounded); one that cannot be decoded is refused. Findings are counted, never stored.
 */
export function inspection(maxBodySize: number): Stage {
  return async (ctx) => {
    const credential = ctx.credential
    if (credential === null || credential.bodyInspection === 'off') return undefined
    const body = await readBody(ctx, maxBodySize)
    if (body === 'unreadable') {
      // The client hung up (or its stream failed) before the body was complete.
      return refuse('bad_request', 'The request body ended before it was complete')
    }
    if (body === 'too_large') {
      return refuse('body_too_large', `Request body is over the limit of ${maxBodySize} bytes`, {
        limit: maxBodySize,
      })
    }
    let scanned = body
    const encoding = requestHeader(ctx.req.rawHeaders, 'content-encoding')
    if (
      body !== null &&
      body.length > 0 &&
      encoding !== null &&
      encoding.trim().toLowerCase() !== 'identity'
    ) {
      try {
        scanned = decodeBody(body, encoding, maxBodySize * DECODE_FACTOR)
      } catch (error) {
        const why = error instanceof DecodeError ? error.code : 'corrupt'
        return refuse('body_inspection', `The request body could not be decoded for inspection (${why})`)
      }
    }
    const parts = { body: scanned, query: ctx.query, headers: upstreamHeaders(ctx), path: ctx.path }
    const findings = inspectOutbound(parts, ctx.snapshot.matcher)
    const token = ctx.req.agentToken
    if (ctx.agent !== null && token !== null) {
      findings.push(...inspectOutbound(parts, agentTokenMatcher(ctx.agent, token), { formats: false }))
    }
    if (findings.length === 0) return undefined
    ctx.pathCarriesSecret = findings.some((f) => f.where === 'path')
    if (credential.bodyInspection === 'block') {
      return refuse('body_inspection', `The request carries a secret: ${describe(findings)}`, {
        found: [...new Set(findings.map((f) => f.kind))],
      })
    }
    ctx.inspection = summary(findings)
    return undefined
  }
}
