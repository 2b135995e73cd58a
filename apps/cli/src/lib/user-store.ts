/** What the `aegis user …` commands share: opening the data directory's user store, printing a token. */
import { AccessStore, type Actor, accessFile, type IssuedToken } from '@aegis/access'
import { CliError } from './errors.js'

/**
 * Runs `fn` on `<dataDir>/access.db` and closes it. A missing file (no user was ever added) gives
 * `fn` null; only `user add` creates it (`addUser`).
 */
export function withUserStore<R>(dataDir: string, fn: (store: AccessStore | null) => R): R {
  const store = AccessStore.open({ file: accessFile(dataDir) })
  try {
    return fn(store)
  } finally {
    store?.close()
  }
}

/** The store of a command that names user `name`: a missing store holds no user of that name. */
export function holding(store: AccessStore | null, name: string): AccessStore {
  if (store === null) throw new CliError(`No user named "${name}" (aegis user list)`)
  return store
}

/** The actor AegisCommand.init authorised; user commands are never open, so it is set. */
export function actorOf(actor: Actor | null): Actor {
  if (actor === null) throw new CliError('internal: a user command ran without an authorised actor')
  return actor
}

/** The one-time token print of `user add` and `user regenerate-token`. */
export function issuedTokenLines(issued: IssuedToken): string[] {
  return [
    'Token (shown once, save it now; only its SHA-256 hash is stored):',
    `  ${issued.token}`,
    'Authenticate with it: export AEGIS_USER_TOKEN=<the token>',
  ]
}
