import { existsSync } from 'node:fs'
import type { AegisConfig } from '@aegis/config'
import { CliError } from './errors.js'

/**
 * The data directory of an existing workspace. Reading commands must never create one (`ledger
 * show` in the wrong folder silently made `./.aegis/ledger.db` and said "No ledger entries"), so a
 * missing directory is an error that says what is missing and what to do.
 */
export function existingDataDir(config: AegisConfig, cwd: string): string {
  const dir = config.vault.data_dir
  if (existsSync(dir)) return dir
  const file = config.source.file
  if (file === null) {
    throw new CliError(
      `No Aegis workspace here: no aegis.config.yaml in ${cwd} and no data directory ${dir} — run aegis init (or pass --config / set AEGIS_CONFIG)`,
    )
  }
  throw new CliError(
    `The data directory ${dir} does not exist (vault.data_dir of ${file}, or AEGIS_DATA_DIR): fix the path, or run aegis init to make it (with a new, empty vault) for this config`,
  )
}

/** A workspace is here when there is a config file or a data directory. */
export function requireWorkspace(config: AegisConfig, cwd: string): void {
  if (config.source.file === null) existingDataDir(config, cwd)
}

/** The shape `aegis init` generates: 256 bits, base64url (43 characters). */
const GENERATED_KEY = /^[A-Za-z0-9_-]{43}$/

/**
 * Why a master key did not open the vault, in words that lead to the fix: a key that is not even
 * shaped like one `aegis init` generates (a paste with quotes or spaces, a truncated copy) is
 * malformed; a well-formed key that fails is the wrong key (of another workspace, or a rotated one).
 * Both keep the contract's "Invalid master key". A key chosen by the user at init (any string) is
 * never refused for its shape: this only words the refusal the vault already made.
 */
export function invalidKeyMessage(key: string, vault: string): string {
  if (GENERATED_KEY.test(key)) {
    return `Invalid master key: AEGIS_MASTER_KEY is well-formed but does not open vault "${vault}" (a key of another workspace?)`
  }
  const why =
    key.trim() !== key
      ? 'it has leading or trailing whitespace'
      : /^["']|["']$/.test(key)
        ? 'it is wrapped in quotes'
        : `it has ${key.length} characters where aegis init makes 43 base64url characters`
  return `Invalid master key: AEGIS_MASTER_KEY looks malformed (${why}), and it does not open vault "${vault}"`
}
