import { join } from 'node:path'
import type { AdminReply } from '@aegis/proxy/internal'
import type { CustodyRecord } from '@aegis/vault'
import { CliError } from './errors.js'
import type { Storage } from './storage.js'

/**
 * `Vault is sealed`, and how to get out of it. An unseal while a gate runs gives the key to the gate
 * alone, so the advice names --key-file: without it the same command leaves the CLI sealed.
 */
export function sealedMessage(custody: CustodyRecord): string {
  return `Vault is sealed: unseal it with ${custody.threshold} of its ${custody.shares} key shares (aegis vault unseal --key-share - < shares.txt, with --key-file while a gate runs: the gate keeps the key in its memory only), or set AEGIS_MASTER_KEY`
}

/**
 * On PostgreSQL the vaults live in the database, not in the data directory's registry (which
 * `assertOpensEveryVault` reads): the key must open each of them too, or a split or an unseal
 * would lock them out. Same words as the data directory's check.
 */
export async function assertOpensDatabaseVaults(storage: Storage, masterKey: string): Promise<void> {
  if (storage.engine !== 'postgres') return
  for (const { name } of await storage.listVaults()) {
    try {
      await (await storage.openVault(name, masterKey)).close()
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'invalid_master_key') throw error
      throw new CliError(
        `Invalid master key: the key does not open vault "${name}" (every vault of a data dir must share one master key)`,
        { cause: error },
      )
    }
  }
}

/** `<dataDir>/run`: the private directory of the gates' admin sockets. */
export function adminDir(dataDir: string): string {
  return join(dataDir, 'run')
}

/** The caller's user token for the admin socket (RBAC), when set. */
export function userToken(): string | undefined {
  return process.env.AEGIS_USER_TOKEN || undefined
}

/**
 * The `--key-share` values in order, `-` replaced by the lines of stdin (blank lines and `#`
 * comments skipped), so shares need not sit in argv or shell history.
 */
export async function collectShares(
  values: readonly string[],
  stdin: NodeJS.ReadableStream,
): Promise<string[]> {
  if (values.filter((v) => v === '-').length > 1)
    throw new CliError('--key-share - may be given once (stdin is read once)')
  const shares: string[] = []
  for (const value of values) {
    if (value !== '-') {
      shares.push(value)
      continue
    }
    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)
    for (const line of lines) if (line.trim() !== '' && !line.trim().startsWith('#')) shares.push(line.trim())
  }
  if (shares.length === 0) throw new CliError('--key-share: no share given (stdin was empty)')
  return shares
}

/** A running gate reached over its admin socket. */
export interface LiveGate {
  socket: string
  status: Record<string, unknown>
}

/** Every gate of the data dir that answers on its admin socket (stale socket files are skipped). */
export async function liveGates(dataDir: string): Promise<LiveGate[]> {
  // The admin client lives in the proxy package (undici, the pipeline): loaded by the commands
  // that talk to gates, not by every command that only needs `sealedMessage`.
  const { adminSockets, callAdmin, isNotListening } = await import('@aegis/proxy/internal')
  const gates: LiveGate[] = []
  for (const socket of adminSockets(adminDir(dataDir))) {
    try {
      const reply = await callAdmin(socket, { method: 'GET', path: '/status', token: userToken() })
      gates.push({ socket, status: checked(reply, socket) })
    } catch (error) {
      if (!isNotListening(error)) throw error
    }
  }
  return gates
}

/** The reply's body, or a one-line error naming the gate's socket and what it said. */
export function checked(reply: AdminReply, socket: string): Record<string, unknown> {
  if (reply.status === 200) return reply.body
  const said = typeof reply.body.error === 'string' ? reply.body.error : `status ${reply.status}`
  throw new CliError(`The gate at ${socket} refused: ${said}`)
}
