import type { GateEngine } from '@aegis/proxy'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { jsonResult, refusalResult } from '../results.js'

export const HEALTH_TOOL = 'aegis_health'

export const healthOutput = {
  status: z.literal('ok'),
  services: z.number().int().nonnegative(),
  version: z.string(),
}

/** Aegis is up: how many services the caller may use, and the server version. */
export function health(engine: GateEngine, agentToken: string | null, version: string): CallToolResult {
  const found = engine.services(agentToken)
  if (!found.ok) return refusalResult(found.refusal)
  return jsonResult({ status: 'ok', services: found.services.length, version })
}
