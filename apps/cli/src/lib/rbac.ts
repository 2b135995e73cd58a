/**
 * The one place a command is authorised (called from AegisCommand.init, before the command reads
 * stdin, opens a vault or writes anything): the command's permission from @aegis/access's table,
 * the actor from the configured engine's users (`<data_dir>/access.db`, or PostgreSQL when
 * `storage.postgres.url` is set) and AEGIS_USER_TOKEN, and `authorize()`. No permission logic lives
 * here, only the wording of the refusals.
 */
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import {
  AccessError,
  type Actor,
  AUTHENTICATION_REQUIRED,
  authorize,
  BOOTSTRAP,
  commandPermission,
  INVALID_USER_TOKEN,
} from '@aegis/access'
import { type AegisConfig, loadConfig } from '@aegis/config'
import { initConfigPath } from './config-file.js'
import { CliError } from './errors.js'
import { lostUserStore, rbacOnSince, recordRbacOn } from './rbac-bootstrap.js'
import { openStorage } from './storage.js'

/**
 * Commands that run before (or to repair) a current PostgreSQL schema: their users are read
 * without the schema check; a database without the users table holds no user (bootstrap).
 */
const SCHEMA_FREE: ReadonlySet<string> = new Set(['init', 'doctor', 'storage:migrate', 'storage:status'])

/** The recovery of a lost access.db: it proves itself with the master key, not with a user (see the command). */
const RECOVERY_COMMAND = 'user:recover'

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
 * when it may not run: `Authentication required (set AEGIS_USER_TOKEN)`, `Invalid user token: …`, or
 * `<role> may not <permission>`.
 */
export async function authorizeCommand(ctx: CommandContext): Promise<Actor | null> {
  const permission = commandPermission(ctx.id)
  if (permission === null) return null
  const token = ctx.env.AEGIS_USER_TOKEN?.trim() || undefined
  let config: AegisConfig
  try {
    config = configOf(ctx)
  } catch (error) {
    // A config that does not load names no data directory, so no users either. The diagnostics
    // (doctor, config validate|show: doctor:run, every role) can then only report that error, which
    // is their job; every other command stops on it here.
    if (permission === 'doctor:run' && (error as Error).name === 'ConfigError') return null
    throw error
  }
  let actor: Actor
  try {
    actor = await resolveActor(config, token, SCHEMA_FREE.has(ctx.id))
    // No user: the recovery proves itself with the master key (a user is authorised as for any command).
    if (ctx.id === RECOVERY_COMMAND && actor.kind === 'bootstrap') return actor
    if (actor.kind === 'bootstrap' && config.storage.postgres.url === undefined) {
      // No user in access.db: bootstrap only if RBAC was never on (the vault remembers it was).
      const since = rbacOnSince(config)
      if (since !== null) throw lostUserStore(config.vault.data_dir, since)
    }
  } catch (error) {
    if (error instanceof AccessError) {
      if (error.code === 'authentication_required')
        throw new CliError(AUTHENTICATION_REQUIRED, { cause: error })
      if (error.code === 'invalid_token') throw new CliError(INVALID_USER_TOKEN, { cause: error })
      throw error
    }
    // PostgreSQL cannot be read at all (down, login refused, schema refused): the diagnostics, whose
    // job is to report exactly that, still run (doctor:run is every role's); every other command
    // stops. SQLite keeps its rule: a damaged access.db stops every command.
    if (permission === 'doctor:run' && config.storage.postgres.url !== undefined) return null
    throw error
  }
  if (permission === undefined) {
    // A command nobody mapped is refused once RBAC is on (the CLI's tests fail on it first).
    if (actor.kind === 'bootstrap') return actor
    throw new CliError(`Command ${ctx.id.replaceAll(':', ' ')} has no permission in @aegis/access: refused`)
  }
  const decision = authorize(actor, permission)
  // Worded as the brief's troubleshooting table lists it, with its fix.
  if (!decision.allowed) throw new CliError(permissionDenied(decision.reason))
  // A data directory whose RBAC was turned on before the vault kept that fact: kept now.
  if (actor.kind === 'user' && config.storage.postgres.url === undefined) recordRbacOn(config)
  return actor
}

/** The actor of `token` among the users of the configured engine (none at all: bootstrap). */
async function resolveActor(
  config: AegisConfig,
  token: string | undefined,
  schemaFree: boolean,
): Promise<Actor> {
  const storage = await openStorage(config, config.vault.data_dir, { checkSchema: !schemaFree })
  try {
    const users = await storage.openUsers()
    if (users === null) return BOOTSTRAP
    try {
      return await users.resolveActor(token)
    } finally {
      await users.close()
    }
  } finally {
    await storage.close()
  }
}

/**
 * The configuration whose users govern this command. `init` may have no config file to read yet:
 * its data directory is the one the starter config it writes will name (`./.aegis` beside the
 * config file), or AEGIS_DATA_DIR; its engine is the environment's (AEGIS_PG_URL).
 */
function configOf(ctx: CommandContext): AegisConfig {
  if (ctx.id === 'init') {
    const configPath = initConfigPath(ctx.cwd, ctx.configFlag, ctx.env.AEGIS_CONFIG)
    if (!existsSync(configPath)) {
      const fromEnv = ctx.env.AEGIS_DATA_DIR
      const dir = dirname(configPath)
      const dataDir = fromEnv ? resolve(ctx.cwd, fromEnv) : resolve(dir, '.aegis')
      // Defaults and the environment only: no file to find (the one init writes is not there yet).
      const env = { ...ctx.env, AEGIS_CONFIG: undefined, AEGIS_DATA_DIR: dataDir }
      return loadConfig({ cwd: dir, env, file: undefined })
    }
    return loadConfig({ cwd: ctx.cwd, env: ctx.env, file: configPath })
  }
  return loadConfig({ cwd: ctx.cwd, env: ctx.env, file: ctx.configFlag })
}

/** A role's refusal as the CLI prints it: `Permission denied: <role> may not <permission>` and the way out. */
export function permissionDenied(reason: string): string {
  return `Permission denied: ${reason} (an admin can change your role: aegis user role --name <you> --role <role>)`
}
