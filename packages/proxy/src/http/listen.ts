import { once } from 'node:events'
import type { Server } from 'node:net'

/**
 * Binds `server` and resolves with the bound port, turning bind failures into one-line messages a
 * user can act on (port in use, permission, address not available).
 */
export async function listenOn(server: Server, host: string, port: number): Promise<number> {
  server.listen(port, host)
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => {
        throw error
      }),
    ])
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'EADDRINUSE') throw new Error(`Port ${port} is already in use`)
    if (code === 'EACCES') throw new Error(`Permission denied binding ${host}:${port}`)
    if (code === 'EADDRNOTAVAIL') throw new Error(`Cannot bind ${host}: address not available`)
    throw error
  }
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : port
}
