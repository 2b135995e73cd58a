import { request } from 'node:http'
import { checkSocketPath } from './socket.js'

/** One admin answer: its status and JSON body. */
export interface AdminReply {
  status: number
  body: Record<string, unknown>
}

export interface AdminCall {
  method: 'GET' | 'POST'
  path: '/status' | '/unseal' | '/seal'
  body?: Record<string, unknown>
  /** The caller's user token, sent as `Authorization: Bearer`; omitted when undefined. */
  token?: string | undefined
  timeoutMs?: number
}

/**
 * Calls a gate's admin socket. Rejects with the socket error when no gate listens there
 * (`ENOENT`, `ECONNREFUSED`: see `isNotListening`).
 */
export function callAdmin(socketPath: string, call: AdminCall): Promise<AdminReply> {
  return new Promise((resolve, reject) => {
    // A longer path would be truncated to another socket's.
    checkSocketPath(socketPath)
    const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body), 'utf8')
    const req = request(
      {
        socketPath,
        method: call.method,
        path: call.path,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
        },
        timeout: call.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          let body: Record<string, unknown>
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
          } catch {
            body = { error: 'The gate answered with something other than JSON' }
          }
          resolve({ status: res.statusCode ?? 0, body })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error('The gate did not answer on its admin socket in time')))
    req.on('error', reject)
    req.end(payload)
  })
}

/** True for the errors meaning "no gate listens on this socket" (none started, or a stale file). */
export function isNotListening(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK'
}
