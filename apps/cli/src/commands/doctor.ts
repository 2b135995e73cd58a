import { existsSync } from 'node:fs'
import { type AegisConfig, loadConfig } from '@aegis/config'
import { type CustodyRecord, readCustody } from '@aegis/vault'
import { AegisCommand } from '../base-command.js'
import { liveGates } from '../lib/custody.js'
import {
  type CheckResult,
  checkCustodyKey,
  checkDataDir,
  checkExpiry,
  checkLedger,
  checkLeftovers,
  checkMasterKey,
  checkPermissions,
  checkRedis,
  checkRegistry,
  checkVault,
} from '../lib/doctor-checks.js'
import { checkPostgres } from '../lib/doctor-postgres.js'
import { moreProblems } from '../lib/errors.js'
import { configuredSalt } from '../lib/salt.js'
import { renderTable } from '../lib/table.js'

/** `aegis doctor --json`. */
export interface DoctorResult {
  ok: boolean
  checks: CheckResult[]
}

const MARKS = { pass: 'ok', warn: 'WARN', fail: 'FAIL' } as const

export default class Doctor extends AegisCommand<typeof Doctor> {
  static override summary =
    'Check the installation: config, key, data directory, vault, ledger, expiry, PostgreSQL and Redis'
  static override description =
    'Each check passes, warns or fails; the exit status is 1 when any check fails.'
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json']

  async run(): Promise<DoctorResult> {
    const checks = await this.runChecks()
    const ok = !checks.some((c) => c.status === 'fail')
    this.log(
      renderTable(
        ['', 'CHECK', 'RESULT'],
        checks.map((c) => [MARKS[c.status], c.name, c.message]),
      ),
    )
    const count = (status: CheckResult['status']) => checks.filter((c) => c.status === status).length
    this.log('')
    this.log(`${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed`)
    if (!ok) process.exitCode = 1
    return { ok, checks }
  }

  private async runChecks(): Promise<CheckResult[]> {
    let config: ReturnType<AegisCommand<typeof Doctor>['loadAegisConfig']>
    try {
      config = this.loadAegisConfig()
    } catch (err) {
      const message = err instanceof Error ? `${err.message}${moreProblems(err)}` : String(err)
      return [{ name: 'config', status: 'fail', message }]
    }
    const checks: CheckResult[] = [
      {
        name: 'config',
        status: 'pass',
        message: config.source.file
          ? `${config.source.file} is valid`
          : 'no config file; defaults and AEGIS_* are valid',
      },
    ]
    const dataDir = config.vault.data_dir
    const name = config.vault.name
    let masterKey = config.vault.master_key ?? undefined
    let custody: CustodyRecord | null = null
    try {
      custody = existsSync(dataDir) ? readCustody(dataDir) : null
    } catch (err) {
      checks.push({
        name: 'master key',
        status: 'fail',
        message: err instanceof Error ? err.message : String(err),
      })
    }
    if (custody !== null) {
      const checked = checkCustodyKey(custody, dataDir, process.env.AEGIS_MASTER_KEY, keyFileOf(config))
      checks.push(
        checked.masterKey === undefined ? await withLiveGates(checked.result, dataDir) : checked.result,
      )
      masterKey = checked.masterKey
    } else checks.push(checkMasterKey(config, Boolean(process.env.AEGIS_MASTER_KEY)))
    const dataDirCheck = checkDataDir(dataDir)
    checks.push(dataDirCheck)
    // Before anything opens a database: opening one resets its mode to 0600.
    const permissions = checkPermissions(config, dataDir)
    const leftovers = checkLeftovers(config, process.cwd(), dataDir)
    const onPostgres = config.storage.postgres.url !== undefined
    // On PostgreSQL the vault, ledger and users are in the database, checked there (vaults.json and
    // the SQLite files are not used).
    const postgres = await checkPostgres(config, { name, masterKey })
    if (onPostgres) {
      checks.push(...postgres.vault)
      if (postgres.credentials !== null) checks.push(checkExpiry(postgres.credentials, new Date()))
    } else if (dataDirCheck.status !== 'fail') {
      const registry = checkRegistry(dataDir, name)
      checks.push(registry)
      if (registry.status !== 'fail') {
        const { vault, results, credentials } = checkVault({
          dataDir,
          name,
          masterKey,
          salt: configuredSalt(config),
        })
        checks.push(...results)
        if (vault) {
          try {
            // The rows that load: a damaged one is already a failed line of its own.
            checks.push(checkExpiry(credentials, new Date()))
          } finally {
            vault.close()
          }
        }
      }
    }
    checks.push(...permissions, leftovers)
    if (dataDirCheck.status !== 'fail' && !onPostgres) checks.push(await checkLedger(dataDir))
    checks.push(...postgres.server)
    checks.push(await checkRedis(config))
    return checks
  }
}

/** The config file when it (not AEGIS_MASTER_KEY) holds `vault.master_key`, else null. */
function keyFileOf(config: AegisConfig): string | null {
  const file = config.source.file
  if (file === null) return null
  const { AEGIS_MASTER_KEY: _env, ...env } = process.env
  try {
    return loadConfig({ cwd: process.cwd(), env, file }).vault.master_key ? file : null
  } catch {
    return null
  }
}

/**
 * A sealed vault (no key at hand for this command) whose running gate was unsealed over its admin
 * socket holds the key in memory only: doctor says the gate serves, rather than only "sealed".
 * A gate that cannot be asked (RBAC on and no AEGIS_USER_TOKEN, no gate running) changes nothing.
 */
async function withLiveGates(result: CheckResult, dataDir: string): Promise<CheckResult> {
  if (result.status !== 'warn') return result
  let serving: string[]
  try {
    serving = (await liveGates(dataDir)).filter((g) => g.status.sealed === false).map((g) => g.socket)
  } catch {
    return result
  }
  if (serving.length === 0) return result
  const gates = serving.length === 1 ? 'the running gate holds it' : `${serving.length} running gates hold it`
  return {
    ...result,
    message: `${result.message.replace(/; the vault is sealed \(aegis vault unseal\)$/, '')}; sealed for CLI commands, but ${gates} in memory (unsealed over its admin socket) and serves; vault checks below need the key (aegis vault unseal --key-file)`,
  }
}
