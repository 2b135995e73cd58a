/** The dashboard's in-memory authentication state: one-time login tokens, sessions, failed attempts. */
import { FailedAttempts } from './attempts.js'
import { LoginTokens } from './login-token.js'
import { Sessions } from './session.js'

export interface Auth {
  readonly loginTokens: LoginTokens
  readonly sessions: Sessions
  readonly failures: FailedAttempts
  /** Cookies get `Secure` under TLS. */
  readonly secure: boolean
}

export function createAuth(options: { now?: () => number; secure?: boolean } = {}): Auth {
  const now = options.now ?? Date.now
  return {
    loginTokens: new LoginTokens({ now }),
    sessions: new Sessions({ now }),
    failures: new FailedAttempts(now),
    secure: options.secure ?? false,
  }
}
