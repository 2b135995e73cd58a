import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { loadConfig, starterConfigYaml } from '@aegis/config'
import { createVault, generateMasterKey } from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../base-command.js'
import { commitFile, discardFile, initConfigPath, stageConfigFile } from '../lib/config-file.js'
import { CliError } from '../lib/errors.js'

/** `aegis init --json` output (interface.md §6). */
export interface InitResult {
  configPath: string
  dataDir: string
  vault: string
  /** Only when the key was generated here and not written to a file. */
  masterKey?: string
  /** True when `--if-missing` found a workspace and left it as it was. */
  kept?: boolean
}

export default class Init extends AegisCommand<typeof Init> {
  static override summary = 'Create aegis.config.yaml, the data directory and the default vault'
  static override description =
    'Uses AEGIS_MASTER_KEY when it is set, otherwise generates a new 256-bit master key and prints it once. ' +
    'Refuses to overwrite an existing config file or vault.'
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --write-secrets',
    '<%= config.bin %> init --write-secrets --if-missing   # safe to re-run',
    'AEGIS_MASTER_KEY=… <%= config.bin %> init --json',
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

  async run(): Promise<InitResult> {
    const writeSecrets = this.flags['write-secrets']
    const configPath = initConfigPath(process.cwd(), this.flags.config, process.env.AEGIS_CONFIG)
    if (existsSync(configPath) && this.flags['if-missing']) {
      // Loaded, so a broken config is still reported rather than kept silently.
      const config = loadConfig({ cwd: process.cwd(), env: process.env, file: configPath })
      this.log(`Aegis workspace already here: ${configPath} (kept as it is)`)
      return { configPath, dataDir: config.vault.data_dir, vault: config.vault.name, kept: true }
    }
    if (existsSync(configPath)) {
      throw new CliError(`Config file already exists: ${configPath} (aegis init never overwrites it)`)
    }
    if (!existsSync(dirname(configPath))) throw new CliError(`Folder does not exist: ${dirname(configPath)}`)

    const envKey = process.env.AEGIS_MASTER_KEY
    const generated = !envKey
    const masterKey = envKey || generateMasterKey()
    const yaml = starterConfigYaml(writeSecrets ? { masterKey } : {})

    // Stage the config beside its final place so relative paths resolve exactly as they will later.
    const staged = stageConfigFile(configPath, yaml, writeSecrets)
    let result: InitResult
    try {
      const { AEGIS_CONFIG: _ignored, ...env } = process.env
      const config = loadConfig({ cwd: process.cwd(), env, file: staged })
      const dataDir = config.vault.data_dir
      const name = config.vault.name
      createVault({ dataDir, name, masterKey }).close()
      commitFile(staged, configPath)
      result = { configPath, dataDir, vault: name }
    } catch (err) {
      discardFile(staged)
      throw err
    }

    this.log(`Initialised Aegis`)
    this.log(`  config:   ${configPath}${writeSecrets ? ' (holds the master key, mode 0600)' : ''}`)
    this.log(`  data dir: ${result.dataDir}`)
    this.log(`  vault:    ${result.vault}`)
    if (generated && !writeSecrets) {
      this.log('')
      this.log('Master key (shown once, store it somewhere safe):')
      this.log(`  ${masterKey}`)
      this.log('Every other command needs it in the environment:')
      this.log(`  export AEGIS_MASTER_KEY=${masterKey}`)
      return { ...result, masterKey }
    }
    if (!generated) this.log('Using the master key from AEGIS_MASTER_KEY.')
    return result
  }
}
