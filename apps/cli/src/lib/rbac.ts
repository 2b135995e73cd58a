/**
 * The one place a command is authorised (called from AegisCommand.init, before the command reads
 * stdin, opens a vault or writes anything): the command's permission from @aegis/access's table,
 * the actor from `<data_dir>/access.db` and AEGIS_USER_TOKEN, and `authorize()`. No permission
 * logic lives here, only the wording of the refusals.
 */
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import {
  AccessError,
  type Actor,
  AUTHENTICATION_REQUIRED,
  accessFile,
  authorize,
  commandPermission,
  resolveActor,
} from '@aegis/access'
import { loadConfig } from '@aegis/config'
import { initConfigPath } from './config-file.js'
import { CliError } from './errors.js'

export interface CommandContext {
  /** oclif command id (`vault:add`). */
  id: string
  cwd: string
  env: Readonly<Record<string, string | undefined>>
  /** `--config`, when given. */
  configFlag: string | undefined
}

/**
 * Who runs the command (null for an open command, or a diagnostic run on a config that does not
 * load: neither reads the user store), or a CliError (exit 1)
 * when it may not run: `Authentication required (set AEGIS_USER_TOKEN)`, `Invalid user token`, or
 * `<role> may not <permission>`.
 */
export function authorizeCommand(ctx: CommandContext): Actor | null {
  const permission = commandPermission(ctx.id)
  if (permission === null) return null
  const token = ctx.env.AEGIS_USER_TOKEN?.trim() || undefined
  let file: string
  try {
    file = accessFile(dataDirOf(ctx))
  } catch (error) {
    // A config that does not load names no data directory, so no users either. The diagnostics
    // (doctor, config validate|show: doctor:run, every role) can then only report that error, which
    // is their job; every other command stops on it here.
    if (permission === 'doctor:run' && (error as Error).name === 'ConfigError') return null
    throw error
  }
  let actor: Actor
  try {
    actor = resolveActor({ file, token })
  } catch (error) {
    if (error instanceof AccessError && error.code === 'authentication_required') {
      throw new CliError(AUTHENTICATION_REQUIRED, { cause: error })
    }
    throw error
  }
  if (permission === undefined) {
    // A command nobody mapped is refused once RBAC is on (the CLI's tests fail on it first).
    if (actor.kind === 'bootstrap') return actor
    throw new CliError(`Command ${ctx.id.replaceAll(':', ' ')} has no permission in @aegis/access: refused`)
  }
  const decision = authorize(actor, permission)
  if (!decision.allowed) throw new CliError(decision.reason)
  return actor
}

/**
 * The data directory whose users govern this command. `init` has no config file to read yet: its
 * data directory is the one the starter config it writes will name (`./.aegis` beside the config
 * file), or AEGIS_DATA_DIR.
 */
function dataDirOf(ctx: CommandContext): string {
  if (ctx.id === 'init') {
    const configPath = initConfigPath(ctx.cwd, ctx.configFlag, ctx.env.AEGIS_CONFIG)
    if (!existsSync(configPath)) {
      const fromEnv = ctx.env.AEGIS_DATA_DIR
      return fromEnv ? resolve(ctx.cwd, fromEnv) : resolve(dirname(configPath), '.aegis')
    }
    return loadConfig({ cwd: ctx.cwd, env: ctx.env, file: configPath }).vault.data_dir
  }
  return loadConfig({ cwd: ctx.cwd, env: ctx.env, file: ctx.configFlag }).vault.data_dir
}
