import { type DeliveryCode, problemOf, refuse } from '@aegis/guard'
import {
  ClientLink,
  type ForwardedOutcome,
  type GateEngine,
  type GateRequest,
  type Outcome,
} from '@aegis/proxy'
import {
  type Drain,
  deliveryFailureCode,
  deliveryFailureDetail,
  isResponseTooLarge,
} from '@aegis/proxy/internal'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { checkedByTheTool } from '../advertised-schema.js'
import { recordableArguments, typeRefusal } from '../argument-types.js'
import { argumentProblem } from '../arguments.js'
import { toGateRequest } from '../request.js'
import { encodeBody, headerValue, type ProxyResponse, readBounded } from '../response.js'
import { jsonResult, problemResult, refusalResult } from '../results.js'

export const PROXY_REQUEST_TOOL = 'aegis_proxy_request'

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/**
 * The arguments as the tool advertises them. Their values are not checked by this schema: it
 * advertises the strict forms (JSON Schema `enum`, `pattern`, lengths, as metadata) but accepts any
 * string, and `argumentProblem` refuses what the gate would refuse, through the pipeline, with a
 * ledger row.
 */
const proxyRequestArguments = z.object({
  service: z.string().meta({
    description: 'The service to call, as listed by aegis_list_services (e.g. "slack")',
    minLength: 1,
    maxLength: 256,
    pattern: '^[^/?#\\s]+$',
  }),
  path: z.string().meta({
    description: 'Upstream path starting with "/", optionally with "?query" (e.g. "/api/auth.test?x=1")',
    pattern: '^/',
  }),
  method: z
    .string()
    .default('GET')
    .meta({ description: 'HTTP method (default GET)', enum: [...HTTP_METHODS] }),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('Extra request headers. Credentials are injected by Aegis: do not send any.'),
  body: z.string().optional().describe('Request body as text (e.g. JSON); set content-type in headers'),
  targetHost: z.string().optional().meta({
    description: "Upstream host; must be in the credential's allowlist. Default: its first domain",
    minLength: 1,
    maxLength: 261,
  }),
})

/**
 * What the SDK lets through to the tool: any object, advertised as `proxyRequestArguments`. Their
 * types are checked by the tool, so that a missing or wrong-typed argument is a recorded
 * `bad_request` refusal like any other, not the SDK's unrecorded input-validation error.
 */
export const proxyRequestInput = checkedByTheTool(proxyRequestArguments)

export const proxyRequestOutput = {
  status: z.number().int(),
  headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  body: z.string(),
  bodyEncoding: z.enum(['utf8', 'base64']),
}

export interface ProxyToolContext {
  engine: GateEngine
  agentToken: string | null
  maxResponseBytes: number
  /** The gate's header limit (`ConnectionLimits.maxHeaderSize`). */
  maxHeaderSize: number
  drain: Drain
}

/**
 * Runs one `aegis_proxy_request` call through the pipeline, exactly as the HTTP gate runs
 * `{method} /{service}{path}`: every check, the ledger entry and the credential injection happen
 * in the engine. A refusal — arguments of the wrong type included — comes back as an error result
 * holding the gate's problem document, and is recorded.
 *
 * `signal` is the call's cancellation (the SDK aborts it for the client's `notifications/cancelled`
 * and when the transport closes: the stdio client gone, the HTTP connection closed). A cancelled
 * call is abandoned as the gate abandons a request whose client went away: not forwarded while it
 * is still being decided, its upstream request aborted while the answer is awaited or read, its
 * in-flight slot free at once, its row `failed` / `client_closed`. The client gets no answer (the
 * SDK sends none for a cancelled call).
 */
export function proxyRequest(
  ctx: ProxyToolContext,
  input: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<CallToolResult> {
  return ctx.drain.track(async () => {
    const typed = proxyRequestArguments.safeParse(input)
    const args = typed.success ? typed.data : recordableArguments(input)
    const req = toGateRequest(args, ctx.agentToken)
    const { engine } = ctx
    if (ctx.drain.closing) {
      const outcome = await engine.reject(req, refuse('shutting_down', 'The MCP server is shutting down'))
      return problemResult(outcome.problem)
    }
    const malformed = typed.success
      ? argumentProblem(args, ctx.maxHeaderSize)
      : typeRefusal(typed.error, input)
    if (malformed !== null) {
      const outcome = await engine.reject(req, malformed)
      return problemResult(outcome.problem)
    }

    const link = new ClientLink()
    const abandon = () => engine.abandon(link)
    if (signal?.aborted) abandon()
    else signal?.addEventListener('abort', abandon, { once: true })
    try {
      return await forwardCall(ctx, req, link, signal)
    } finally {
      signal?.removeEventListener('abort', abandon)
    }
  })
}

/** The pipeline's answer to the call, its body read whole (bounded) while the client still waits. */
async function forwardCall(
  ctx: ProxyToolContext,
  req: GateRequest,
  link: ClientLink,
  signal: AbortSignal | undefined,
): Promise<CallToolResult> {
  let outcome: Outcome
  try {
    outcome = await ctx.engine.process(req, link)
  } catch {
    return refusalResult(refuse('upstream_unreachable', 'The request could not be completed'), req.id)
  }
  if (outcome.kind === 'refused') return problemResult(outcome.problem)

  let read: Awaited<ReturnType<typeof readBounded>>
  try {
    read = await readBounded(outcome.body, ctx.maxResponseBytes, signal)
  } catch (error) {
    outcome.body.destroy()
    if (signal?.aborted) return cancelled(outcome, req.id)
    outcome.finish({ bytesOut: 0, error })
    // A compressed answer that expanded past the gate's bound (a compression bomb).
    if (isResponseTooLarge(error)) {
      return tooLarge(outcome, req.id, `${deliveryFailureDetail(error)}; nothing was returned`, {})
    }
    const code = deliveryFailureCode(error) as 'upstream_timeout' | 'upstream_unreachable'
    return refusalResult(refuse(code, deliveryFailureDetail(error)), req.id)
  }
  // Cancelled as the last bytes came: the client reads nothing of it.
  if (signal?.aborted) return cancelled(outcome, req.id)
  if (!read.ok) {
    outcome.finish({ bytesOut: 0, code: 'response_too_large' satisfies DeliveryCode })
    return tooLarge(
      outcome,
      req.id,
      `The upstream response is over the MCP limit of ${ctx.maxResponseBytes} bytes; nothing was returned`,
      { limit: ctx.maxResponseBytes },
    )
  }
  outcome.finish({ bytesOut: read.bytes.length })
  const response: ProxyResponse = {
    status: outcome.status,
    headers: outcome.headers,
    ...encodeBody(read.bytes, headerValue(outcome.headers, 'content-type')),
  }
  return jsonResult(response)
}

/** The `response_too_large` problem for an answer the call does not return. */
function tooLarge(
  outcome: ForwardedOutcome,
  requestId: string,
  detail: string,
  extra: Record<string, unknown>,
): CallToolResult {
  return problemResult(
    problemOf(
      'response_too_large',
      502,
      'Response too large',
      detail,
      { ...extra, upstreamStatus: outcome.status },
      requestId,
    ),
  )
}

/**
 * A call cancelled once the upstream had answered: recorded as the gate records an agent gone
 * mid-answer (`client_closed`, nothing delivered). The result is never sent (the SDK drops it).
 */
function cancelled(outcome: ForwardedOutcome, requestId: string): CallToolResult {
  outcome.finish({ bytesOut: 0, code: 'client_closed' satisfies DeliveryCode })
  return refusalResult(refuse('upstream_unreachable', 'The tool call was cancelled'), requestId)
}
