/** The gate as the Overview shows it: the embedded one's state, or an external one's health endpoint. */
import type { GateHealth, GateStatus } from './deps.js'

// The Overview polls; an unreachable gate must answer fast rather than hold the request.
const HEALTH_TIMEOUT_MS = 1000

/** What `/_aegis/health` (and `Gate.health()`) report while requests are refused. */
const REFUSING: ReadonlySet<unknown> = new Set(['draining', 'sealed', 'ledger_unavailable'])

/** The embedded gate's own health check: the one its `/_aegis/health` answers from. */
export function embeddedGateStatus(
  url: string,
  gate: {
    vault: { readonly name: string }
    health(): { status: 'ok' | 'draining' | 'sealed' | 'ledger_unavailable'; sealed: boolean }
  },
): () => Promise<GateStatus> {
  return async () => {
    const { status, sealed } = gate.health()
    return { mode: 'embedded', url, reachable: true, sealed, status, vault: gate.vault.name }
  }
}

/**
 * `GET <url>/_aegis/health`: `running` only for 200 with `status: "ok"`; a 503 says why in
 * `status` (`sealed`, `ledger_unavailable`, `draining`), and one that does not is `unavailable`,
 * never running; no JSON answer, another HTTP status or no answer at all is unreachable.
 */
export function externalGateStatus(url: string, vaultName: string): () => Promise<GateStatus> {
  return async () => {
    const unreachable: GateStatus = {
      mode: 'external',
      url,
      reachable: false,
      sealed: false,
      status: 'unreachable',
      vault: vaultName,
    }
    try {
      const res = await fetch(`${url}/_aegis/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
      const body = (await res.json()) as { status?: unknown; sealed?: unknown } | null
      if (res.status !== 200 && res.status !== 503) return unreachable
      const sealed = body?.sealed === true
      return { ...unreachable, reachable: true, sealed, status: healthOf(res.status, body?.status, sealed) }
    } catch {
      return unreachable
    }
  }
}

function healthOf(httpStatus: number, status: unknown, sealed: boolean): GateHealth {
  if (REFUSING.has(status)) return status as GateHealth
  if (sealed) return 'sealed'
  return httpStatus === 200 && status === 'ok' ? 'ok' : 'unavailable'
}
