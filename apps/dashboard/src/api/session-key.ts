/**
 * The session key: the second half of a session, beside the HttpOnly cookie. A browser sends the
 * cookie of 127.0.0.1 to every port of 127.0.0.1 (a dev server an agent started included), so the
 * server also wants the key, which the login answers and which lives in this origin's localStorage:
 * shared by the dashboard's tabs and kept across a reload, never readable from another port. It
 * goes in `X-Aegis-Session` on every API call, and as the subprotocol offer `aegis-key.<key>` on the
 * feed's WebSocket (a browser WebSocket can set no header); the server answers `aegis.v1`.
 */

export const SESSION_KEY_HEADER = 'X-Aegis-Session'
export const FEED_PROTOCOL = 'aegis.v1'
export const KEY_PROTOCOL_PREFIX = 'aegis-key.'
const STORAGE_ITEM = 'aegis.sessionKey'
/** 32 random bytes, base64url: what the server hands out (anything else stored is no key). */
const KEY_SHAPE = /^[A-Za-z0-9_-]{43}$/

/** Where the key is kept. */
export interface SessionKeyStore {
  get(): string | null
  set(key: string): void
  clear(): void
}

/** The part of the Web Storage API used (tests pass a Map-backed one). */
export interface StorageLike {
  getItem(name: string): string | null
  setItem(name: string, value: string): void
  removeItem(name: string): void
}

/**
 * The key in `storage` (the page's localStorage by default). Storage that throws (disabled by the
 * browser) keeps nothing: every call is then refused, and the page shows the login.
 */
export function storedSessionKey(storage?: StorageLike): SessionKeyStore {
  const store = (): StorageLike | undefined => storage ?? globalThis.localStorage
  return {
    get() {
      try {
        const key = store()?.getItem(STORAGE_ITEM) ?? null
        return key !== null && KEY_SHAPE.test(key) ? key : null
      } catch {
        return null
      }
    },
    set(key) {
      try {
        store()?.setItem(STORAGE_ITEM, key)
      } catch {
        // Not kept: the next call is refused and the login page shows.
      }
    },
    clear() {
      try {
        store()?.removeItem(STORAGE_ITEM)
      } catch {
        // Nothing stored that could be removed.
      }
    },
  }
}

/** The subprotocols the feed's WebSocket offers: the feed's own, and the key's (when there is one). */
export function feedProtocols(key: string | null): string[] {
  return key === null ? [FEED_PROTOCOL] : [FEED_PROTOCOL, `${KEY_PROTOCOL_PREFIX}${key}`]
}
