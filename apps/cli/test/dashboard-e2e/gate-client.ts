import { request } from 'node:http'

export interface GateReply {
  status: number
  /** `X-Aegis-Block` (the refusal code) when the gate refused. */
  block: string | undefined
  requestId: string | undefined
  /** `Date.now()` when the whole response had arrived. */
  doneAt: number
}

/** One GET through the gate (no keep-alive, so every call is its own connection). */
export function gateGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<GateReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          block: res.headers['x-aegis-block'] as string | undefined,
          requestId: res.headers['x-request-id'] as string | undefined,
          doneAt: Date.now(),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
