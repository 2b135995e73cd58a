import type { Refusal } from '@aegis/guard'
import type { RateLimitScope } from './observer.js'
import type { LiveAgent, LiveCredential, Snapshot } from './snapshot.js'
import type { GateRequest } from './types.js'
import type { DialTarget } from './upstream/resolve.js'

/**
 * What the stages learn about one request as it moves through the pipeline. Each stage reads what
 * earlier stages filled in and adds its own part; none of it outlives the request.
 */
export interface RequestContext {
  readonly req: GateRequest
  /** The snapshot taken when the request arrived: every stage sees the same state. */
  readonly snapshot: Snapshot
  /** Epoch ms the decisions are made at. */
  readonly now: number
  service: string | null
  /** The authenticated agent, or null when none was presented (agent auth off). */
  agent: LiveAgent | null
  /**
   * The name of the agent whose token was sent but whose stored record the gate refuses (damaged,
   * or failing its seal), for the ledger; null otherwise.
   */
  refusedAgent: string | null
  /** Path without the service segment or the query, exactly as sent (`/api/x`). */
  path: string
  /** Query without the `?`, exactly as sent. */
  query: string
  credential: LiveCredential | null
  /** The validated upstream host and port (from `X-Target-Host` or the credential's default). */
  target: { host: string; port: number } | null
  /** Where the request goes, once the destination stages accepted it. */
  dial: DialTarget | null
  /** Rate budget this request has spent: given back if it is refused after all. */
  readonly refunds: Array<() => void>
  /** What to give back when the request completes or is refused (in-flight slots). */
  readonly releases: Array<() => void>
  /** Set when a stage recorded something that does not refuse (e.g. a dry-run policy verdict). */
  dryRun: Refusal | null
  /** The request body, once a stage had to read it whole (inspection); forwarded as is. */
  bodyBytes: Uint8Array | null
  /** What inspection found in warn mode (kinds and places only), for the ledger. */
  inspection: string | null
  /** Inspection found a secret in the path itself: the path is withheld from ledger and logs. */
  pathCarriesSecret: boolean
  /** Every stage passed, outbound inspection included (it searched the path and found nothing). */
  pathInspected: boolean
  /** The path as ledger and logs may hold it, once computed (see `safePath`). */
  loggablePath: string | null
  /** The headers to forward, computed once (see `upstreamHeaders`). */
  forwardHeaders: string[] | null
  /** Set by the stage whose budget refused the request (`rate_limited`), for the metrics. */
  rateLimit: RateLimitScope | null
  /** The client went away before its answer (the channel said so): nothing more is sent upstream. */
  abandoned: boolean
  /** The upstream exchange while its answer is awaited: `abandon` gives up on it. */
  exchange: { fail(error: Error): void } | null
  /**
   * Request body bytes handed to the upstream so far: a body cut off part way (over the size
   * limit, the client gone, the upstream failing) is recorded with what did go out.
   */
  bodySent: () => number
}

const NOTHING_SENT = (): number => 0

export function createContext(req: GateRequest, snapshot: Snapshot, now: number): RequestContext {
  return {
    req,
    snapshot,
    now,
    service: null,
    agent: null,
    refusedAgent: null,
    path: '',
    query: '',
    credential: null,
    target: null,
    dial: null,
    refunds: [],
    releases: [],
    dryRun: null,
    bodyBytes: null,
    inspection: null,
    pathCarriesSecret: false,
    pathInspected: false,
    loggablePath: null,
    forwardHeaders: null,
    rateLimit: null,
    abandoned: false,
    exchange: null,
    bodySent: NOTHING_SENT,
  }
}
