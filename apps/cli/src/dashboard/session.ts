/**
 * Browser sessions, in memory only (a restart logs everyone out). The cookie holds 32 random bytes;
 * the map is keyed by their SHA-256. A session remembers whose token opened it, not who that was: the
 * actor is resolved again on every request, so a removed or demoted user loses access at once.
 * A session ends after 12 idle hours, and 12 hours after its login however much it is used (a tab
 * left open on the live feed uses it all the time): a stolen cookie is not good for ever.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { sha256 } from './login-token.js'

export const SESSION_COOKIE = 'aegis_session'
export const SESSION_IDLE_MS = 12 * 60 * 60_000
/** The absolute lifetime of a session from its login, checked on every request and feed socket. */
export const SESSION_LIFETIME_MS = 12 * 60 * 60_000
// Enough for every browser of a team; a flood of logins evicts the idlest instead of growing.
const MAX_SESSIONS = 1000

/** Whose authority a session carries: a user token, or none (bootstrap: no user exists). */
export interface Principal {
  readonly userToken: string | undefined
}

interface Entry {
  principal: Principal
  lastSeen: number
  /** Login time + lifetime: past it the session is gone, used or not. */
  endsAt: number
}

export interface SessionsOptions {
  idleMs?: number
  lifetimeMs?: number
  now?: () => number
}

export class Sessions {
  readonly #idleMs: number
  readonly #lifetimeMs: number
  readonly #now: () => number
  readonly #byHash = new Map<string, Entry>()

  constructor(options: SessionsOptions = {}) {
    this.#idleMs = options.idleMs ?? SESSION_IDLE_MS
    this.#lifetimeMs = options.lifetimeMs ?? SESSION_LIFETIME_MS
    this.#now = options.now ?? Date.now
  }

  /** Opens a session; returns the cookie value. */
  open(principal: Principal): string {
    if (this.#byHash.size >= MAX_SESSIONS) this.#evictIdlest()
    const id = randomBytes(32).toString('base64url')
    const now = this.#now()
    this.#byHash.set(sha256(id), { principal, lastSeen: now, endsAt: now + this.#lifetimeMs })
    return id
  }

  /** The live session's principal (its idle timer restarts, its lifetime does not), or null. */
  get(id: string | undefined): Principal | null {
    if (id === undefined) return null
    const key = sha256(id)
    const entry = this.#byHash.get(key)
    if (entry === undefined) return null
    const now = this.#now()
    if (now - entry.lastSeen >= this.#idleMs || now >= entry.endsAt) {
      this.#byHash.delete(key)
      return null
    }
    entry.lastSeen = now
    return entry.principal
  }

  /** When the live session `id` ends at the latest (its lifetime), epoch ms; null when there is none. */
  endsAt(id: string): number | null {
    return this.#byHash.get(sha256(id))?.endsAt ?? null
  }

  close(id: string | undefined): void {
    if (id !== undefined) this.#byHash.delete(sha256(id))
  }

  #evictIdlest(): void {
    let idlest: [string, number] | null = null
    for (const [key, entry] of this.#byHash) {
      if (idlest === null || entry.lastSeen < idlest[1]) idlest = [key, entry.lastSeen]
    }
    if (idlest) this.#byHash.delete(idlest[0])
  }
}

/** The `aegis_session` cookie of a request, if any. */
export function sessionCookie(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * `Set-Cookie` for a new session (`Secure` only under TLS, which this server does not serve yet);
 * the browser drops it when the session's lifetime is over, as the server does.
 */
export function sessionSetCookie(id: string, secure: boolean): string {
  const maxAge = Math.floor(SESSION_LIFETIME_MS / 1000)
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure ? '; Secure' : ''}`
}

export function sessionClearCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? '; Secure' : ''}`
}
