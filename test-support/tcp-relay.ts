import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP relay in front of a server (PostgreSQL, Redis) that a test can take away and bring back on the same port:
 * `down()` drops every connection and refuses new ones (ECONNREFUSED), as a stopped server does;
 * `freeze()` leaves the open connections open but carries nothing more over them either way, as a
 * peer behind a dead network path (no RST ever comes), while new connections work.
 */
export interface TcpRelay {
  /** `url` with its host and port replaced by the relay's. */
  readonly url: string
  down(): Promise<void>
  up(): Promise<void>
  freeze(): void
  close(): Promise<void>
}

/** A relay to the host and port of `url` (`postgres://…`, `redis://…`). */
export async function startRelay(url: string): Promise<TcpRelay> {
  const target = new URL(url)
  const sockets = new Set<Socket>()
  const pairs = new Set<[Socket, Socket]>()
  let port = 0
  let server: Server | null = null
  const listen = async () => {
    const next = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname)
      const pair: [Socket, Socket] = [client, upstream]
      pairs.add(pair)
      for (const s of pair) {
        sockets.add(s)
        s.on('error', () => {})
        s.on('close', () => {
          sockets.delete(s)
          pairs.delete(pair)
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    next.listen(port, '127.0.0.1')
    await once(next, 'listening')
    port = (next.address() as { port: number }).port
    server = next
  }
  const down = async () => {
    const closing = server
    server = null
    for (const s of sockets) s.destroy()
    if (closing !== null) await new Promise((resolve) => closing.close(resolve))
  }
  const freeze = () => {
    for (const [client, upstream] of pairs) {
      client.unpipe(upstream)
      upstream.unpipe(client)
      // Read and thrown away: nothing arrives, and nothing is refused either.
      client.removeAllListeners('data')
      upstream.removeAllListeners('data')
      client.on('data', () => {})
      upstream.on('data', () => {})
    }
    pairs.clear()
  }
  await listen()
  const relayed = new URL(url)
  relayed.hostname = '127.0.0.1'
  relayed.port = String(port)
  return { url: relayed.toString(), down, up: listen, freeze, close: down }
}
