import { neverForwarded, refuse } from '@aegis/guard'
import type { SyncStage } from '../pipeline.js'

/**
 * TRACE, TRACK and CONNECT are never forwarded, on any channel and under any scope (`*` too): the
 * upstream would echo the request — the credential injected into it — or open a tunnel. Refused
 * `method_not_allowed` before anything is looked up for the upstream, so nothing goes out.
 */
export const method: SyncStage = (ctx) => {
  const name = neverForwarded(ctx.req.method)
  if (name === null) return undefined
  return refuse(
    'method_not_allowed',
    name === 'CONNECT'
      ? 'CONNECT is never forwarded: Aegis makes API calls, it opens no tunnels'
      : `${name} is never forwarded: the upstream would echo the request back, the injected credential with it`,
  )
}
