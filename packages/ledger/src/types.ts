/** Where a request came in. */
export type RequestChannel = 'gate' | 'mcp'

/** What happened to a request. `system` is reserved for system entries. */
export type RequestDecision = 'allowed' | 'blocked' | 'failed'

export type Decision = RequestDecision | 'system'

/**
 * One request as the gate/MCP server hands it to `Ledger.append`. Never put a secret, token,
 * query string, header or body in any field.
 */
export interface LedgerEntryInput {
  /** When the request arrived; defaults to the time of `append`. */
  time?: Date
  requestId: string
  channel: RequestChannel
  agent?: string | null
  credential?: string | null
  service?: string | null
  targetHost?: string | null
  method: string
  /** Request path; anything from `?` or `#` on is cut off before storing. */
  path: string
  decision: RequestDecision
  code?: string | null
  status?: number | null
  durationMs?: number | null
  bytesIn?: number | null
  bytesOut?: number | null
  /** Dry-run mode: the code the request would have been refused with. */
  dryRun?: string | null
  redactions?: number | null
  /** Kinds of findings only, e.g. `warn:github-token`. */
  inspection?: string | null
}

/** What `Ledger.complete` records once the response is done. */
export interface LedgerOutcome {
  /** The request this completes; the row already holds it (accepted so the gate's `AuditSink` fits). */
  requestId?: string
  decision?: RequestDecision
  code?: string | null
  status?: number | null
  durationMs: number
  bytesIn: number
  bytesOut: number
  redactions?: number | null
  inspection?: string | null
}

/** A stored entry, in the `--json` shape of interface.md §6. Optional keys are absent when unset. */
export interface LedgerEntry {
  id: number
  time: string
  requestId: string | null
  channel: RequestChannel | 'system'
  agent: string | null
  credential: string | null
  service: string | null
  targetHost: string | null
  method: string | null
  path: string | null
  decision: Decision
  code: string | null
  status: number | null
  durationMs: number | null
  bytesIn: number | null
  bytesOut: number | null
  dryRun?: string
  redactions?: number
  inspection?: string
  event?: string
  detail?: string
}

/**
 * Which entries to read. Without `blocked`/`system` every entry (requests and system events)
 * matches; `blocked` keeps only refused requests, `system` only system events.
 */
export interface LedgerFilter {
  service?: string
  agent?: string
  blocked?: boolean
  system?: boolean
  /** Only request entries (no system events). */
  requests?: boolean
  /** Only entries with this decision. */
  decision?: Decision
  /** Only entries with this refusal or failure code. */
  code?: string
  /** Only entries that came in on this channel. */
  channel?: RequestChannel | 'system'
  /** Only ids greater than this (paging forward). The order is then by id. */
  afterId?: number
  /** Only ids smaller than this (paging back). The order is then by id. */
  beforeId?: number
  /** `query` only: `desc` (default, newest first) or `asc`. `iterate`/`exportTo` are always oldest first. */
  order?: 'asc' | 'desc'
  /** Inclusive lower bound. */
  since?: Date
  /** Exclusive upper bound. */
  until?: Date
  /** `query` default 20; `iterate`/`exportTo` default: no limit. */
  limit?: number
}

export interface LedgerStatsFilter {
  agent?: string
  service?: string
  since?: Date
  until?: Date
}

/** `ledger stats --json`. `total` counts requests only; `system` counts system entries. */
export interface LedgerStats {
  total: number
  allowed: number
  blocked: number
  failed: number
  system: number
  byService: Record<string, number>
  byAgent: Record<string, number>
  byCode: Record<string, number>
}

/** A time range for `timeline`, `window` and `blockedGroups`: `since` inclusive, `until` exclusive (default now). */
export interface LedgerRange {
  since: Date
  until?: Date
}

/** One bucket of `Ledger.timeline`: requests that arrived in [t, t + bucketSeconds). */
export interface TimelineBucket {
  /** The bucket's start, ISO 8601 UTC. */
  t: string
  allowed: number
  blocked: number
  failed: number
}

/** `Ledger.window`: request counts over a range and the 95th percentile of completed durations. */
export interface LedgerWindow {
  requests: number
  blocked: number
  failed: number
  /** Nearest-rank 95th percentile of `durationMs` over completed requests; null when none completed. */
  p95Ms: number | null
}

/** One group of `Ledger.blockedGroups`. */
export interface BlockedGroup {
  code: string | null
  /** Null for requests without an agent, and always when grouped by code only. */
  agent: string | null
  count: number
  /** ISO 8601 UTC time of the newest refusal in the group. */
  lastSeen: string
}

export type ExportFormat = 'csv' | 'json' | 'jsonl'

/** Counters for `/_aegis/metrics`. */
export interface LedgerMetrics {
  /** Committed group-commit transactions. */
  batches: number
  /** Entries (requests and system) committed. */
  appended: number
  /** Completions applied. */
  completed: number
  /** Transactions that failed; their appends were rejected. */
  failedBatches: number
  /** Completions lost (write failure, unknown id, or after close). */
  droppedCompletes: number
  /** Appends and completions queued, not yet written. */
  pending: number
}
