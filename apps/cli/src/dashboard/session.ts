/**
 * Browser sessions, in memory only (a restart logs everyone out). A session is two secrets of 32
 * random bytes each: the id, in the `aegis_session` cookie (keyed by its SHA-256), and the key, which
 * the login answers in its body and the SPA keeps in its origin's localStorage and sends on every
 * call (session-key.ts). A browser sends a 127.0.0.1 cookie to EVERY port of 127.0.0.1, so a dev
 * server an agent started there receives the cookie; it never sees the key (localStorage is per
 * origin, port included). Only the key's SHA-256 is kept, compared in constant time; a session is
 * live only for the right id AND key. A session remembers whose token opened it, not who that was: the
 * actor is resolved again on every request, so a removed or demoted user loses access at once.
 * A session ends after 12 idle hours, and 12 hours after its login however much it is used (a tab
 * left open on the live feed uses it all the time): a stolen cookie is not good for ever.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
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

/** What a request proves a session with: the cookie's id and the key the SPA sends beside it. */
export interface SessionProof {
  readonly id: string
  readonly key: string
}

interface Entry {
  principal: Principal
  /** SHA-256 of the session key (never the key). */
  keyHash: Buffer
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

  /** Opens a session; returns its id (the cookie value) and its key (the login's answer). */
  open(principal: Principal): SessionProof {
    if (this.#byHash.size >= MAX_SESSIONS) this.#evictIdlest()
    const id = randomBytes(32).toString('base64url')
    const key = randomBytes(32).toString('base64url')
    const now = this.#now()
    this.#byHash.set(sha256(id), {
      principal,
      keyHash: keyHash(key),
      lastSeen: now,
      endsAt: now + this.#lifetimeMs,
    })
    return { id, key }
  }

  /**
   * The live session's principal (its idle timer restarts, its lifetime does not), or null: no
   * proof, an unknown id, a key that is not this session's (the session itself lives on: whoever
   * holds only the cookie must not be able to end it either), or a session past its time.
   */
  get(proof: SessionProof | null): Principal | null {
    const found = this.#entry(proof)
    if (found === null) return null
    const [hash, entry] = found
    const now = this.#now()
    if (now - entry.lastSeen >= this.#idleMs || now >= entry.endsAt) {
      this.#byHash.delete(hash)
      return null
    }
    entry.lastSeen = now
    return entry.principal
  }

  /** When the live session `id` ends at the latest (its lifetime), epoch ms; null when there is none. */
  endsAt(id: string): number | null {
    return this.#byHash.get(sha256(id))?.endsAt ?? null
  }

  /** Ends the session the proof opens; a cookie without its key ends nothing. */
  close(proof: SessionProof | null): void {
    const found = this.#entry(proof)
    if (found !== null) this.#byHash.delete(found[0])
  }

  /** The entry (and its map key) of the session `proof` opens, id and key both right; else null. */
  #entry(proof: SessionProof | null): [string, Entry] | null {
    if (proof === null) return null
    const hash = sha256(proof.id)
    const entry = this.#byHash.get(hash)
    if (entry === undefined || !timingSafeEqual(keyHash(proof.key), entry.keyHash)) return null
    return [hash, entry]
  }

  #evictIdlest(): void {
    let idlest: [string, number] | null = null
    for (const [key, entry] of this.#byHash) {
      if (idlest === null || entry.lastSeen < idlest[1]) idlest = [key, entry.lastSeen]
    }
    if (idlest) this.#byHash.delete(idlest[0])
  }
}

function keyHash(key: string): Buffer {
  return createHash('sha256').update(key).digest()
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
