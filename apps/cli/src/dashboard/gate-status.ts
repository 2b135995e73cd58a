/** The gate as the Overview shows it: the embedded one's state, or an external one's health endpoint. */
import { type ClientRequest, get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import type { GateHealth, GateStatus } from './deps.js'

// The Overview polls; an unreachable gate must answer fast rather than hold the request. The whole
// exchange (connect, head, body) has this long.
export const HEALTH_TIMEOUT_MS = 1000
/**
 * A gate's health answer is about a hundred bytes. Whatever listens on `gate.port` may be anything
 * (another program, a hostile local process): past this the answer is not read further.
 */
export const MAX_HEALTH_BYTES = 4096

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
 * never running. Anything odd is unreachable: no answer within `HEALTH_TIMEOUT_MS` (body included),
 * another HTTP status (a redirect is not followed), a body over `MAX_HEALTH_BYTES`, or one that is
 * not a JSON object.
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
    const answer = await readHealth(`${url}/_aegis/health`)
    if (answer === null) return unreachable
    const { status: httpStatus, body } = answer
    const sealed = body.sealed === true
    return { ...unreachable, reachable: true, sealed, status: healthOf(httpStatus, body.status, sealed) }
  }
}

/** The health answer (200 or 503 with a JSON object), or null for anything else; never throws. */
function readHealth(target: string): Promise<{ status: number; body: Record<string, unknown> } | null> {
  return new Promise((resolve) => {
    let settled = false
    let req: ClientRequest | undefined
    const finish = (answer: { status: number; body: Record<string, unknown> } | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req?.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => finish(null), HEALTH_TIMEOUT_MS)
    try {
      // A TLS gate's certificate is the operator's (often self-signed, for a name other than the
      // address polled): not verified. The probe sends nothing but the path and reads a status.
      const get = target.startsWith('https:') ? httpsGet : httpGet
      const options = { agent: false, headers: { accept: 'application/json' }, rejectUnauthorized: false }
      req = get(target, options, (res) => {
        const status = res.statusCode ?? 0
        const declared = Number(res.headers['content-length'] ?? 0)
        if ((status !== 200 && status !== 503) || !(declared <= MAX_HEALTH_BYTES)) return finish(null)
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_HEALTH_BYTES) finish(null)
          else chunks.push(chunk)
        })
        res.on('end', () => finish(parseObject(status, Buffer.concat(chunks))))
        res.on('error', () => finish(null))
      })
    } catch {
      finish(null)
      return
    }
    req.on('error', () => finish(null))
  })
}

function parseObject(
  status: number,
  bytes: Buffer,
): { status: number; body: Record<string, unknown> } | null {
  try {
    const body: unknown = JSON.parse(bytes.toString('utf8'))
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
    return { status, body: body as Record<string, unknown> }
  } catch {
    return null
  }
}

function healthOf(httpStatus: number, status: unknown, sealed: boolean): GateHealth {
  if (REFUSING.has(status)) return status as GateHealth
  if (sealed) return 'sealed'
  return httpStatus === 200 && status === 'ok' ? 'ok' : 'unavailable'
}
