/** What the `aegis user …` commands share: opening the engine's user store, printing a token. */
import {
  type Actor,
  accessFile,
  addUser,
  type DeliverToken,
  type IssuedToken,
  type UserStore,
} from '@aegis/access'
import { CliError } from './errors.js'
import { writeFailure, writeStdoutOnce } from './stdout-once.js'
import type { Storage } from './storage.js'

/**
 * Runs `fn` on the engine's users and closes them. No user store at all (SQLite: no access.db, no
 * user was ever added) gives `fn` null; only `user add` creates one (`addFirstUser`).
 */
export async function withUserStore<R>(
  storage: Storage,
  fn: (store: UserStore | null) => R | Promise<R>,
): Promise<R> {
  const store = await storage.openUsers()
  try {
    return await fn(store)
  } finally {
    await store?.close()
  }
}

/** The store of a command that names user `name`: a missing store holds no user of that name. */
export function holding(store: UserStore | null, name: string): UserStore {
  if (store === null) throw new CliError(`No user named "${name}" (aegis user list)`)
  return store
}

/**
 * `user add` where no user store exists yet (SQLite): @aegis/access creates `<dataDir>/access.db`
 * only once the input passed every check, so a refused first `user add` leaves no file behind.
 */
export function addFirstUser(
  dataDir: string,
  actor: Actor,
  input: { name: string; role: string },
  deliver: DeliverToken,
): Promise<IssuedToken> {
  return addUser({ file: accessFile(dataDir), actor, ...input, deliver })
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

/**
 * The one-time print of a token, made inside the transaction that issues it (`UserStore.addUser` /
 * `regenerateToken` with `deliver`): with `--json` the one document, else `heading` and the token
 * lines. When stdout cannot take it (a full disk, a closed pipe) the token is not issued, and the
 * error says what stayed as it was (`unchanged`).
 */
export function printToken(
  json: boolean,
  heading: (issued: IssuedToken) => string,
  unchanged: string,
): DeliverToken {
  return async (issued) => {
    const text = json
      ? `${JSON.stringify(issued, null, 2)}\n`
      : `${[heading(issued), ...issuedTokenLines(issued)].join('\n')}\n`
    try {
      await writeStdoutOnce(text)
    } catch (error) {
      throw new CliError(
        `Could not print the token (${writeFailure(error)}), so it was not issued: ${unchanged}`,
        { cause: error },
      )
    }
  }
}
