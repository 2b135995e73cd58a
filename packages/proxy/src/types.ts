import type { Readable } from 'node:stream'
import type { Refusal } from '@aegis/guard'

/** Which door a request came through. Both run the same pipeline. */
export type Channel = 'gate' | 'mcp'

/**
 * The canonical request: what the HTTP adapter and the MCP server both build, and the only thing
 * the pipeline sees. Nothing here refers to `node:http`.
 */
export interface GateRequest {
  /** Unique id, echoed to the agent as `X-Request-Id` and stored in the ledger. */
  readonly id: string
  readonly channel: Channel
  /** Epoch ms when the request arrived. */
  readonly receivedAt: number
  readonly method: string
  /** The request target as the agent sent it: `/{service}/{path}?{query}`. Not yet trusted. */
  readonly target: string
  /** Raw header pairs as received: `[name, value, name, value, …]`, names in any case. */
  readonly rawHeaders: readonly string[]
  /** The agent token (`X-Aegis-Agent`), if one was sent. Never logged or stored. */
  readonly agentToken: string | null
  /** `X-Target-Host`, if one was sent. */
  readonly targetHost: string | null
  /** Declared body length, or null when unknown (chunked) or absent. */
  readonly contentLength: number | null
  /** The body: a stream (HTTP), bytes (MCP), or null when there is none. */
  readonly body: Readable | Uint8Array | null
  readonly clientAddress: string | null
}

/** Outcome of a stage: nothing (continue) or a refusal that ends the request. */
export type StageResult = Refusal | undefined

/** How policies apply: refuse, record what would be refused, or ignore them. */
export type PolicyMode = 'enforce' | 'dry-run' | 'off'
