import type { GateEngine } from '@aegis/proxy'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { jsonResult, refusalResult } from '../results.js'

export const LIST_SERVICES_TOOL = 'aegis_list_services'

export const listServicesOutput = {
  services: z.array(
    z.object({
      name: z.string(),
      service: z.string(),
      domains: z.array(z.string()),
      scopes: z.array(z.string()),
    }),
  ),
}

/** What an agent learns about a usable service: never a secret, header name or auth detail. */
export interface ServiceListing {
  name: string
  service: string
  domains: string[]
  scopes: string[]
}

/** The services the caller may use, as the engine reports them for its token. */
export function listServices(engine: GateEngine, agentToken: string | null): CallToolResult {
  const found = engine.services(agentToken)
  if (!found.ok) return refusalResult(found.refusal)
  const services: ServiceListing[] = found.services.map((s) => ({
    name: s.name,
    service: s.service,
    domains: [...s.domains],
    scopes: [...s.scopes],
  }))
  return jsonResult({ services })
}
