import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { type AegisConfig, loadConfig, starterConfigYaml } from '@aegis/config'
import { migrate } from '@aegis/pg'
import { createVault, destroyVault, generateMasterKey, listVaults, openVault, VaultError } from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../base-command.js'
import { commitFile, discardFile, initConfigPath, stageConfigFile } from '../lib/config-file.js'
import { CliError } from '../lib/errors.js'
import { missingFolder, type OutputFile, outputExists, outputFileError } from '../lib/output-file.js'
import { PG_MIGRATION_SETS, pgFailure } from '../lib/postgres.js'
import { configuredSalt, saltOption } from '../lib/salt.js'
import { removeOnInterrupt, removeStagedLeftovers } from '../lib/staged-files.js'
import { writeFailure, writeStdoutOnce } from '../lib/stdout-once.js'
import { openStorage } from '../lib/storage.js'

/** `aegis init --json` output (interface.md §6). */
export interface InitResult {
  configPath: string
  dataDir: string
  vault: string
  /** Only when the key was generated here and not written to a file. */
  masterKey?: string
  /** True when `--if-missing` found a workspace and left it as it was. */
  kept?: boolean
  /** Where the vault lives: the data directory's SQLite files, or PostgreSQL (storage.postgres.url). */
  engine: 'sqlite' | 'postgres'
  /** PostgreSQL: the vault was already there (another host ran init) and the key opens it. */
  joined?: boolean
  /** The config file was there but its data directory was not: the data directory was made for it. */
  rebuilt?: boolean
}

export default class Init extends AegisCommand<typeof Init> {
  static override summary = 'Create aegis.config.yaml, the data directory and the default vault'
  static override description =
    'Uses AEGIS_MASTER_KEY when it is set (at least 32 characters, no surrounding whitespace or quotes), ' +
    'otherwise generates a new 256-bit master key and prints it once. ' +
    'Refuses to overwrite an existing config file or vault.'
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --write-secrets',
    '<%= config.bin %> init --write-secrets --if-missing   # safe to re-run',
    '$ AEGIS_MASTER_KEY=… <%= config.bin %> init --json',
  ]
  static override flags = {
    'write-secrets': Flags.boolean({
      description:
        'Store the master key in the config file (mode 0600); convenient for local development only',
      default: false,
    }),
    'if-missing': Flags.boolean({
      description:
        'Keep an existing workspace: when the config file is already there, change nothing and exit 0 (re-runnable setup)',
      default: false,
    }),
  }

  async run(): Promise<InitResult | undefined> {
    const writeSecrets = this.flags['write-secrets']
    const configPath = initConfigPath(process.cwd(), this.flags.config, process.env.AEGIS_CONFIG)
    if (existsSync(configPath)) {
      const rebuilt = await this.#rebuildDataDir(configPath, writeSecrets)
      if (rebuilt !== null) {
        warnAboutGivenKey()
        return rebuilt
      }
    }
    if (existsSync(configPath) && this.flags['if-missing']) {
      // Loaded, so a broken config is still reported rather than kept silently.
      const config = loadConfig({ cwd: process.cwd(), env: process.env, file: configPath })
      this.log(`Aegis workspace already here: ${configPath} (kept as it is)`)
      return {
        configPath,
        dataDir: config.vault.data_dir,
        vault: config.vault.name,
        kept: true,
        engine: config.storage.postgres.url === undefined ? 'sqlite' : 'postgres',
      }
    }
    if (existsSync(configPath)) throw outputExists(configOutput(configPath))
    const noFolder = missingFolder(configOutput(configPath))
    if (noFolder !== null) throw noFolder

    const envKey = process.env.AEGIS_MASTER_KEY
    const generated = !envKey
    const masterKey = envKey || generateMasterKey()
    const yaml = starterConfigYaml(writeSecrets ? { masterKey } : {})

    // A config staged by an init that was killed (SIGKILL, a power cut) may hold a master key.
    for (const file of removeStagedLeftovers(configPath)) {
      this.logToStderr(
        `Warning: removed ${file}, left by an aegis init that was interrupted (it may have held a master key)`,
      )
    }
    // Stage the config beside its final place so relative paths resolve exactly as they will later.
    let staged: string
    try {
      staged = stageConfigFile(configPath, yaml, writeSecrets)
    } catch (error) {
      throw outputFileError(configOutput(configPath), error)
    }
    // Interrupted from here on (Ctrl-C while the vault is made), the staged file goes with the process.
    const release = removeOnInterrupt(staged)
    // A generated key that is not written to the config exists only in what init prints: it is
    // printed before the config is committed, and a print that fails takes the new vault back.
    const showKey = generated && !writeSecrets
    let undo: (() => Promise<void>) | undefined
    let result: InitResult
    try {
      const { AEGIS_CONFIG: _ignored, ...env } = process.env
      const config = loadConfig({ cwd: process.cwd(), env, file: staged })
      const dataDir = config.vault.data_dir
      const name = config.vault.name
      const dataDirExisted = existsSync(dataDir)
      if (config.storage.postgres.url === undefined) {
        const joined = initSqlite(config, masterKey, generated)
        if (!joined) undo = async () => removeNewVault(dataDir, name, dataDirExisted)
        result = { configPath, dataDir, vault: name, engine: 'sqlite', ...(joined && { joined }) }
      } else {
        const joined = await initPostgres(config, masterKey, generated)
        if (!joined) undo = () => removeNewPgVault(config, name, dataDirExisted)
        result = { configPath, dataDir, vault: name, engine: 'postgres', ...(joined && { joined }) }
      }
      if (showKey) await this.#deliverNewKey(summaryLines(result, writeSecrets), { ...result, masterKey })
      commitFile(staged, configOutput(configPath))
    } catch (err) {
      discardFile(staged)
      await undo?.().catch(() => undefined)
      throw err
    } finally {
      release()
    }
    // Printed above already (with --json, the one document).
    if (showKey) return undefined

    for (const line of summaryLines(result, writeSecrets)) this.log(line)
    if (!generated) this.log('Using the master key from AEGIS_MASTER_KEY.')
    warnAboutGivenKey()
    return result
  }

  /**
   * The config file is there but its SQLite data directory is not (moved aside after "Database file
   * is corrupted", as the troubleshooting advice says, or never made): the data directory and the
   * vault are made for the config as it is, which is kept untouched. Null when there is nothing to do.
   */
  async #rebuildDataDir(configPath: string, writeSecrets: boolean): Promise<InitResult | null | undefined> {
    // Loaded, so a broken config is reported rather than used.
    const config = loadConfig({ cwd: process.cwd(), env: process.env, file: configPath })
    const dataDir = config.vault.data_dir
    if (config.storage.postgres.url !== undefined || existsSync(dataDir)) return null
    const known = config.vault.master_key
    if (!known && writeSecrets) {
      throw new CliError(
        `${configPath} exists and holds no master key, and aegis init never rewrites it: set AEGIS_MASTER_KEY, or run aegis init without --write-secrets to get a new key printed`,
      )
    }
    const masterKey = known || generateMasterKey()
    const name = config.vault.name
    createVault({ dataDir, name, masterKey, ...saltOption(configuredSalt(config)) }).close()
    const lines = [
      `Initialised Aegis for the existing config (kept as it is)`,
      `  config:   ${configPath}`,
      `  data dir: ${dataDir} (new)`,
      `  vault:    ${name} (new, empty)`,
    ]
    const result: InitResult = { configPath, dataDir, vault: name, engine: 'sqlite', rebuilt: true }
    if (known) {
      for (const line of lines) this.log(line)
      return result
    }
    try {
      await this.#deliverNewKey(lines, { ...result, masterKey })
    } catch (err) {
      removeNewVault(dataDir, name, false)
      throw err
    }
    return undefined
  }

  /**
   * The one print of a key init generated (`lines`, then the key with the export line every other
   * command needs; with --json the one document), before anything depends on it: a stdout that
   * cannot take it is a CliError, and the caller takes back what it made.
   */
  async #deliverNewKey(lines: string[], output: InitResult): Promise<void> {
    const masterKey = output.masterKey as string
    const text = this.jsonEnabled()
      ? `${JSON.stringify(output, null, 2)}\n`
      : `${[
          ...lines,
          '',
          'Master key (shown once, store it somewhere safe):',
          `  ${masterKey}`,
          'Every other command needs it in the environment:',
          `  export AEGIS_MASTER_KEY=${masterKey}`,
        ].join('\n')}\n`
    try {
      await writeStdoutOnce(text)
    } catch (error) {
      throw new CliError(
        `Could not print the new master key (${writeFailure(error)}), so nothing was created: run aegis init again`,
        { cause: error },
      )
    }
  }
}

/** What init prints about a new workspace (the fresh path). */
/** The config file init makes, for the refusals of a path it cannot take. */
function configOutput(path: string): OutputFile {
  return {
    path,
    flag: '--config',
    what: 'Config file',
    whenExists:
      'aegis init --if-missing keeps a workspace as it is; or choose another path with --config, or remove it to start over',
  }
}

function summaryLines(result: InitResult, writeSecrets: boolean): string[] {
  const lines = [
    `Initialised Aegis`,
    `  config:   ${result.configPath}${writeSecrets ? ' (holds the master key, mode 0600)' : ''}`,
    `  data dir: ${result.dataDir}`,
    `  vault:    ${result.vault}`,
  ]
  if (result.engine === 'sqlite' && result.joined) {
    lines.push(`  storage:  SQLite (vault "${result.vault}" was already there and the key opens it)`)
  }
  if (result.engine === 'postgres') {
    lines.push(
      result.joined
        ? `  storage:  PostgreSQL (schema current; vault "${result.vault}" was already there and the key opens it)`
        : '  storage:  PostgreSQL (schema migrated; the vault lives in the database)',
    )
  }
  return lines
}

/** Takes back a vault this init created (and the data directory, when it made that too). */
function removeNewVault(dataDir: string, name: string, dataDirExisted: boolean): void {
  destroyVault(dataDir, name)
  if (!dataDirExisted) rmSync(dataDir, { recursive: true, force: true })
}

/** `removeNewVault` for a vault this init created in PostgreSQL. */
async function removeNewPgVault(config: AegisConfig, name: string, dataDirExisted: boolean): Promise<void> {
  const dataDir = config.vault.data_dir
  const storage = await openStorage(config, dataDir, { checkSchema: false })
  try {
    await storage.destroyVault(name)
  } finally {
    await storage.close()
  }
  if (!dataDirExisted) rmSync(dataDir, { recursive: true, force: true })
}

/**
 * On SQLite: a new vault in the data directory. One already there (its config was lost or moved) is
 * joined when AEGIS_MASTER_KEY opens it — init then writes a config for it; with a freshly generated
 * key that cannot be, so it is refused with the way out. Returns whether it joined.
 */
function initSqlite(config: AegisConfig, masterKey: string, generated: boolean): boolean {
  const dataDir = config.vault.data_dir
  const name = config.vault.name
  const salt = saltOption(configuredSalt(config))
  try {
    createVault({ dataDir, name, masterKey, ...salt }).close()
    return false
  } catch (error) {
    if (
      !(error instanceof VaultError) ||
      error.code !== 'exists' ||
      !listVaults(dataDir).some((v) => v.name === name)
    )
      throw error
  }
  if (generated) {
    throw new CliError(
      `Vault "${name}" already exists in ${dataDir}, but no config names it here: set AEGIS_MASTER_KEY to its key and run aegis init again (it writes a config for it), or move ${dataDir} aside to start over`,
    )
  }
  // Throws invalid_master_key (a one-line VaultError) when the key is not this vault's.
  openVault({ dataDir, name, masterKey, ...salt }).close()
  return true
}

/**
 * On PostgreSQL: the local data directory (admin socket, custody files) plus the shared schema and
 * the vault in the database. A vault that is already there (another host ran init first) is joined
 * when AEGIS_MASTER_KEY opens it; with a freshly generated key that cannot be, so it is refused.
 * Returns whether it joined.
 */
async function initPostgres(config: AegisConfig, masterKey: string, generated: boolean): Promise<boolean> {
  const dataDir = config.vault.data_dir
  const name = config.vault.name
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const storage = await openStorage(config, dataDir, { checkSchema: false })
  const url = config.storage.postgres.url as string
  try {
    try {
      await migrate(storage.pool as NonNullable<typeof storage.pool>, PG_MIGRATION_SETS)
    } catch (error) {
      throw pgFailure(error, url)
    }
    try {
      await (await storage.createVault(name, masterKey)).close()
      return false
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'exists') throw error
    }
    if (generated) {
      throw new CliError(
        `Vault "${name}" already exists in PostgreSQL at ${storage.where}: set AEGIS_MASTER_KEY to its key and run aegis init again`,
      )
    }
    // Throws invalid_master_key (a one-line VaultError) when the key is not this vault's.
    await (await storage.openVault(name, masterKey)).close()
    return true
  } finally {
    await storage.close()
  }
}

/** After success, on stderr: what is doubtful about the key given in AEGIS_MASTER_KEY, if anything. */
function warnAboutGivenKey(): void {
  const key = process.env.AEGIS_MASTER_KEY
  const warning = key ? masterKeyWarning(key) : null
  if (warning !== null) process.stderr.write(`${warning}\n`)
}

/** The fewest characters a master key given to init should have (aegis init's own keys have 43). */
const MIN_MASTER_KEY_LENGTH = 32

/**
 * A key given in AEGIS_MASTER_KEY becomes the vault's key for good, and init uses it as given (the
 * interface: init uses AEGIS_MASTER_KEY when it is set). But one short enough to guess (every secret
 * in the vault falls with it) or carrying a copy-paste mistake (whitespace or quotes around it,
 * which every later command must then repeat exactly) deserves a warning. Never echoes the key.
 */
export function masterKeyWarning(key: string): string | null {
  const fix = 'unset AEGIS_MASTER_KEY to have aegis init make one, or use openssl rand -base64 32'
  if (key.trim() !== key) {
    return `Warning: AEGIS_MASTER_KEY has leading or trailing whitespace, which is now part of the key: every command must be given it exactly (${fix})`
  }
  if (/^["']|["']$/.test(key)) {
    return `Warning: AEGIS_MASTER_KEY starts or ends with a quote, which is now part of the key: every command must be given it exactly (${fix})`
  }
  if (key.length < MIN_MASTER_KEY_LENGTH) {
    return `Warning: AEGIS_MASTER_KEY has ${key.length} characters: a key under ${MIN_MASTER_KEY_LENGTH} can be guessed, and every secret in the vault with it (${fix})`
  }
  return null
}
