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

/**
 * Aegis can serve: how many services the caller may use, and the server version. When it cannot
 * (draining, sealed, audit ledger unwritable: the engine's one health check, the one the gate's
 * `/_aegis/health` answers with), the result is the refusal every request would get now.
 */
export function health(
  engine: GateEngine,
  agentToken: string | null,
  version: string,
  draining: boolean,
): CallToolResult {
  const { refusal } = engine.health(draining)
  if (refusal !== null) return refusalResult(refusal)
  const found = engine.services(agentToken)
  if (!found.ok) return refusalResult(found.refusal)
  return jsonResult({ status: 'ok', services: found.services.length, version })
}
