/** The gate as the Overview shows it: the embedded one's state, or an external one's health endpoint. */
import type { GateStatus } from './deps.js'

// The Overview polls; an unreachable gate must answer fast rather than hold the request.
const HEALTH_TIMEOUT_MS = 1000

export function embeddedGateStatus(
  url: string,
  vault: { name: string; isSealed(): boolean },
): () => Promise<GateStatus> {
  return async () => ({ mode: 'embedded', url, reachable: true, sealed: vault.isSealed(), vault: vault.name })
}

/** `GET <url>/_aegis/health`: 200 running, 503 with `sealed: true` sealed, anything else unreachable. */
export function externalGateStatus(url: string, vaultName: string): () => Promise<GateStatus> {
  return async () => {
    const status: GateStatus = { mode: 'external', url, reachable: false, sealed: false, vault: vaultName }
    try {
      const res = await fetch(`${url}/_aegis/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
      const body = (await res.json()) as { sealed?: unknown }
      return { ...status, reachable: res.status === 200 || res.status === 503, sealed: body.sealed === true }
    } catch {
      return status
    }
  }
}
