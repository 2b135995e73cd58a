/**
 * AegisCommand — the base every `aegis` command extends.
 *
 *   export default class LedgerShow extends AegisCommand<typeof LedgerShow> {
 *     static override flags = { limit: Flags.integer({ default: 20 }) }
 *     async run() {
 *       const config = this.loadAegisConfig()     // parsed once; ConfigError → one-line error, exit 1
 *       ...
 *       return rows                               // with --json, oclif prints this as one JSON document
 *     }
 *   }
 *
 * What it gives a command:
 * - Flags: every command gets `--config <file>` (base flag) and `--json` (`enableJsonFlag`). With
 *   `--json`, `this.log` is silent and the value `run()` returns is printed as JSON; a command that
 *   prints nothing useful can return undefined. Set `static override enableJsonFlag = false` to opt out.
 * - `this.flags` / `this.args`: parsed and typed in `init()`.
 * - `loadAegisConfig(overrides?)`: the resolved `AegisConfig` (flags > env > file > defaults), memoised;
 *   a command with config-backed flags passes them as `overrides` on its first call.
 * - `openActiveVault()`: the active vault, for long-running commands that close it themselves.
 * - `masterKey()`: `AEGIS_MASTER_KEY` or `vault.master_key`; missing → `AEGIS_MASTER_KEY is not set`
 *   (or, before `init`, "No Aegis workspace here"). Once the key is split (`vault split`):
 *   `AEGIS_MASTER_KEY` or a valid `unsealed.key`, else `Vault is sealed`.
 * - `activeVaultName()`, `dataDir()`: from the config (`AEGIS_VAULT` / `vault.name`, `vault.data_dir`);
 *   `dataDir()` is an error when the directory does not exist, so reading commands never create it.
 * - `storage()` / `withStorage(fn)`: the configured engine (`openStorage`: PostgreSQL when
 *   `storage.postgres.url` is set, else the data directory's SQLite files), opened once per command
 *   run (one pool) and closed when the command ends.
 * - `withVault(fn, name?)`: opens a vault (a `VaultStore` of that engine) with the master key, runs
 *   `fn`, always closes it.
 * - `fail(message)`: throws a `CliError` (one line on stderr, exit 1).
 * - RBAC (`init()`, lib/rbac.ts): the command's permission (@aegis/access's table) is checked for
 *   the actor of AEGIS_USER_TOKEN before the command runs; `this.actor` is who passed.
 * - Error handling (`catch`): CliError, ConfigError, VaultError and any other error → one line
 *   `Error: <message>` on stderr and exit 1 (a CliError's `exitCode`, or an explicit
 *   `this.error(msg, { exit: n })` other than 2), a stack only when `DEBUG=aegis*`; VaultError
 *   validation messages name CLI flags (`--header-name`, not `headerName`); oclif parse errors (unknown flag, missing required flag, bad option) keep oclif's
 *   message and exit 2. In `--json` mode stdout stays empty on error.
 */
import type { Actor } from '@aegis/access'
import { type AegisConfig, type ConfigOverrides, loadConfig, placeholderVariable } from '@aegis/config'
import {
  type CustodyRecord,
  openVault,
  readCustody,
  readUnsealedKey,
  type Vault,
  type VaultStore,
} from '@aegis/vault'
import { Command, Flags, type Interfaces } from '@oclif/core'
import { sealedMessage } from './lib/custody.js'
import { placeholderMessage } from './lib/env-placeholders.js'
import { CliError, debugEnabled, errorLine, isParseError, redactUnexpectedArgs } from './lib/errors.js'
import { vaultKeyPrefetched } from './lib/key-prefetch.js'
import { authorizeCommand } from './lib/rbac.js'
import { refuseLostUsers } from './lib/rbac-bootstrap.js'
import { configuredSalt, saltOption } from './lib/salt.js'
import { handleStdoutFailure } from './lib/stdout-failure.js'
import { openStorage, type Storage } from './lib/storage.js'
import { existingDataDir, invalidKeyMessage } from './lib/workspace.js'

/** Flags every Aegis command accepts, plus the command's own. */
export type AegisFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof AegisCommand)['baseFlags'] & T['flags']
>
/** Arguments of a command. */
export type AegisArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** Flags that carry secret material, and what to say when one was given in argv rather than stdin. */
const ARGV_SECRET_WARNINGS: Readonly<Record<string, string>> = {
  secret:
    'Warning: --secret <value> put the secret in argv, visible to other processes (ps, /proc) and kept in shell history; next time use --secret - (stdin) or leave --secret out to be prompted',
  'key-share':
    'Warning: --key-share <share> put key shares in argv, visible to other processes (ps, /proc) and kept in shell history; next time pipe them in, one per line: --key-share - < shares.txt',
}

export abstract class AegisCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    config: Flags.string({
      description: 'Config file (default: ./aegis.config.yaml, or $AEGIS_CONFIG)',
      helpGroup: 'GLOBAL',
    }),
  }

  protected flags!: AegisFlags<T>
  protected args!: AegisArgs<T>
  /**
   * Who runs this command (`@aegis/access`): the bootstrap actor while no user was ever added, else
   * the holder of AEGIS_USER_TOKEN, already authorised for the command's permission in `init()`.
   * Null for an open command.
   */
  protected actor: Actor | null = null
  #config: AegisConfig | undefined
  #storage: Promise<Storage> | undefined

  override async init(): Promise<void> {
    await super.init()
    // A failed stdout (a full disk under `> file`) is a one-line error, not oclif's uncaught rethrow.
    handleStdoutFailure()
    const { args, flags } = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof AegisCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as AegisFlags<T>
    this.args = args as AegisArgs<T>
    // A `<paste …>` left from aegis mcp config is no key, token or URL: named before it is used.
    const placeholder = placeholderVariable(process.env)
    if (placeholder !== null) throw new CliError(placeholderMessage(placeholder))
    // RBAC before anything else the command does (stdin, vaults, files): a refusal changes nothing.
    this.actor = await authorizeCommand({
      id: this.id ?? '',
      cwd: process.cwd(),
      env: process.env,
      configFlag: this.flags.config,
    })
  }

  /** The resolved configuration, loaded once per command run. Throws ConfigError. */
  protected loadAegisConfig(overrides?: ConfigOverrides): AegisConfig {
    if (!this.#config) {
      this.#config = loadConfig({ cwd: process.cwd(), env: process.env, file: this.flags.config, overrides })
    }
    return this.#config
  }

  /**
   * The master key (env wins over the file, as layered by @aegis/config). Before `init` the error
   * says there is no workspace here, not that a key is missing (advice that cannot work there).
   */
  protected masterKey(): string {
    const config = this.loadAegisConfig()
    const dataDir = existingDataDir(config, process.cwd())
    let custody: CustodyRecord | null
    try {
      custody = readCustody(dataDir)
    } catch (error) {
      // AEGIS_MASTER_KEY needs no custody record (opening the vault proves it): a damaged
      // custody.json must not lock out the one key that can split again and rewrite it.
      if (process.env.AEGIS_MASTER_KEY) return process.env.AEGIS_MASTER_KEY
      throw error
    }
    if (custody !== null) return this.#custodyKey(dataDir, custody)
    const key = config.vault.master_key
    if (!key) {
      throw new CliError(
        'AEGIS_MASTER_KEY is not set: export AEGIS_MASTER_KEY=<the key aegis init printed> (or keep it in the config with vault.master_key, file mode 0600)',
      )
    }
    return key
  }

  /**
   * The key once it is split into shares (`vault split`): AEGIS_MASTER_KEY when set (the operator's
   * explicit bypass; a key left in the config file no longer counts), else `<dataDir>/unsealed.key`
   * when it passes the custody key check, else the vault is sealed.
   */
  #custodyKey(dataDir: string, custody: CustodyRecord): string {
    const fromEnv = process.env.AEGIS_MASTER_KEY
    if (fromEnv) return fromEnv
    let key: Buffer | null
    try {
      key = readUnsealedKey(dataDir, custody)
    } catch (error) {
      throw new CliError(
        `Vault is sealed: ${(error as Error).message}; run aegis vault seal, then aegis vault unseal with the current shares`,
        { cause: error },
      )
    }
    if (key === null) throw new CliError(sealedMessage(custody))
    const text = key.toString('utf8')
    key.fill(0)
    return text
  }

  /**
   * Absolute data directory (`vault.data_dir`, `AEGIS_DATA_DIR`) of an existing workspace; a
   * one-line error when there is none here, so no reading command creates one.
   */
  protected dataDir(): string {
    return existingDataDir(this.loadAegisConfig(), process.cwd())
  }

  /** The vault commands act on (`AEGIS_VAULT`, `vault.name`). */
  protected activeVaultName(): string {
    return this.loadAegisConfig().vault.name
  }

  /** Opens the active vault for a long-running command; the caller closes it. */
  protected async openActiveVault(): Promise<Vault> {
    // With the key bin/run.js started deriving (lib/key-prefetch.ts), when it guessed this vault.
    await vaultKeyPrefetched()
    return this.#open(this.activeVaultName())
  }

  /**
   * A command running as bootstrap (access.db holds no user) is refused by a vault that says RBAC
   * was turned on (`refuseLostUsers`); `user recover` — the way back — is the one that is not.
   */
  protected readonly recoversLostUsers: boolean = false

  #refusesLostUsers(): boolean {
    return this.actor?.kind === 'bootstrap' && !this.recoversLostUsers
  }

  /** Opens a vault; a wrong or malformed master key gets words that tell the two apart. */
  #open(name: string): Vault {
    const masterKey = this.masterKey()
    let vault: Vault
    try {
      vault = openVault({
        dataDir: this.dataDir(),
        name,
        masterKey,
        ...saltOption(configuredSalt(this.loadAegisConfig())),
      })
    } catch (error) {
      throw keyError(error, masterKey, name)
    }
    if (this.#refusesLostUsers()) refuseLostUsers(vault, this.dataDir())
    return vault
  }

  /** The configured storage engine, opened on first use; `finally` closes it (ends its pool). */
  protected storage(): Promise<Storage> {
    this.#storage ??= openStorage(this.loadAegisConfig(), this.dataDir(), {
      bootstrap: this.#refusesLostUsers(),
    })
    return this.#storage
  }

  /** `fn` on the configured storage engine. */
  protected async withStorage<R>(fn: (storage: Storage) => R | Promise<R>): Promise<R> {
    return fn(await this.storage())
  }

  /**
   * Opens a vault (default: the active one) of the configured engine, runs `fn`, and closes the
   * vault whatever happens. The key is looked up first: a missing or sealed key is the error.
   */
  protected async withVault<R>(fn: (vault: VaultStore) => R | Promise<R>, name?: string): Promise<R> {
    const vaultName = name ?? this.activeVaultName()
    const masterKey = this.masterKey()
    return this.withStorage(async (storage) => {
      let vault: VaultStore
      try {
        vault = await storage.openVault(vaultName, masterKey)
      } catch (error) {
        throw await withVaultHint(keyError(error, masterKey, vaultName), storage, vaultName)
      }
      try {
        return await fn(vault)
      } finally {
        await vault.close()
      }
    })
  }

  /**
   * Closes the storage the command opened. After a command that took secret material as a literal
   * flag value (`--secret <value>`: vault add, vault rotate, webhook add; `--key-share <share>`: vault
   * unseal) succeeded: it works — scripts and the brief rely on it — but the value sat in argv,
   * readable by other processes and kept in shell history. Said after success only, so a failure
   * stays one line on stderr.
   */
  override async finally(err: Error | undefined): Promise<unknown> {
    const storage = this.#storage
    this.#storage = undefined
    // A storage that failed to open has nothing to close (its error was the command's).
    await (await storage?.catch(() => undefined))?.close()
    if (err === undefined) {
      const flags = (this.flags ?? {}) as Record<string, unknown>
      for (const [flag, warning] of Object.entries(ARGV_SECRET_WARNINGS)) {
        const values = ([] as unknown[]).concat(flags[flag] ?? [])
        if (values.some((value) => typeof value === 'string' && value !== '-')) {
          process.stderr.write(`${warning}\n`)
        }
      }
    }
    return super.finally(err)
  }

  /** Stops the command with a one-line error and exit status 1. */
  protected fail(message: string): never {
    throw new CliError(message)
  }

  /** One line per error, no stack unless DEBUG=aegis*; parse errors stay oclif's (exit 2). */
  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    if (err.oclif?.exit !== undefined && (err as { code?: string }).code === 'EEXIT') throw err
    if (isParseError(err)) {
      // Exit 2 for every usage error the parser catches (interface §3), whatever oclif set.
      err.oclif = { ...err.oclif, exit: 2 }
      process.exitCode = 2
      throw redactUnexpectedArgs(err)
    }
    process.stderr.write(`${errorLine(err)}\n`)
    if (debugEnabled(process.env.DEBUG) && err.stack) process.stderr.write(`${err.stack}\n`)
    return this.exit(exitCodeOf(err))
  }
}

/** A vault's refusal of the key in words that tell a wrong key from a malformed one; else as is. */
function keyError(error: unknown, masterKey: string, vault: string): unknown {
  if ((error as { code?: unknown }).code === 'invalid_master_key') {
    return new CliError(invalidKeyMessage(masterKey, vault), { cause: error })
  }
  return error
}

/**
 * No vault of the active name (AEGIS_VAULT mistyped, or the vault destroyed): the error names the
 * vaults there are and the two ways out, instead of leaving every command failing the same way.
 */
async function withVaultHint(error: unknown, storage: Storage, name: string): Promise<unknown> {
  if ((error as { code?: unknown }).code !== 'no_vault') return error
  const names = (await storage.listVaults().catch(() => [])).map((vault) => vault.name)
  const choose =
    names.length === 0
      ? 'there is no vault'
      : `vaults here: ${names.join(', ')}; pick one with AEGIS_VAULT=<name>`
  return new CliError(
    `${(error as Error).message} (${choose}, or create it: aegis vault create --name ${name})`,
    {
      cause: error,
    },
  )
}

/**
 * 1 for every failure after parsing; a CliError's own code; an explicit `this.error(msg, { exit: n })`
 * code other than oclif's default 2 (status 2 is reserved for parser errors).
 */
function exitCodeOf(err: Error & { oclif?: { exit?: number } }): number {
  if (err instanceof CliError) return err.exitCode
  const exit = err.oclif?.exit
  return exit !== undefined && exit !== 2 ? exit : 1
}
