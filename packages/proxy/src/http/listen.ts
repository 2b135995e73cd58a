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
    // The system code stays on the error, so an app can add its own way out (its flag, its key).
    if (code === 'EADDRINUSE') throw Object.assign(new Error(`Port ${port} is already in use`), { code })
    if (code === 'EACCES')
      throw Object.assign(new Error(`Permission denied binding ${host}:${port}`), { code })
    if (code === 'EADDRNOTAVAIL')
      throw Object.assign(new Error(`Cannot bind ${host}: address not available`), { code })
    throw error
  }
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : port
}
