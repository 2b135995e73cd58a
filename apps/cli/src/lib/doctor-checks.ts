import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { type AegisConfig, DEFAULT_CONFIG_FILE } from '@aegis/config'
import { headerCanCarry, secretProblems } from '@aegis/guard'
import { openLedger } from '@aegis/ledger'
import { rateLimiterFromConfig, redactRedisUrl } from '@aegis/redis-rate-limit'
import {
  type AgentRecord,
  type CredentialInfo,
  type CredentialLoad,
  type CustodyRecord,
  isExpired,
  listVaults,
  openVault,
  readUnsealedKey,
  type Vault,
} from '@aegis/vault'
import { configExposure } from './config-exposure.js'
import { redisTrouble } from './rate-limits.js'
import { saltOption } from './salt.js'
import { stagedLeftovers } from './staged-files.js'

export type CheckStatus = 'pass' | 'warn' | 'fail'

/** One line of `aegis doctor`. */
export interface CheckResult {
  name: string
  status: CheckStatus
  message: string
}

const pass = (name: string, message: string): CheckResult => ({ name, status: 'pass', message })
const warn = (name: string, message: string): CheckResult => ({ name, status: 'warn', message })
const fail = (name: string, message: string): CheckResult => ({ name, status: 'fail', message })

const DAY_MS = 86_400_000
/** Credentials expiring within this many days are reported. */
export const EXPIRY_WARNING_DAYS = 7

/** `0o755` → `0755`. */
export function octalMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`
}

function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')
}

/** Master key present (env wins over the file; @aegis/config did the layering). */
export function checkMasterKey(config: AegisConfig, envHasKey: boolean): CheckResult {
  if (!config.vault.master_key) {
    return fail('master key', 'AEGIS_MASTER_KEY is not set (export it, or run aegis init --write-secrets)')
  }
  return pass(
    'master key',
    envHasKey ? 'set by AEGIS_MASTER_KEY' : `set in ${config.source.file ?? 'the config'}`,
  )
}

/**
 * The key once it is split (`vault split`): sealed is a state, not a fault, so it warns; the key to
 * check the vault with is AEGIS_MASTER_KEY or a valid unsealed.key, as for every command.
 */
export function checkCustodyKey(
  custody: CustodyRecord,
  dataDir: string,
  envKey: string | undefined,
  /** The config file that still holds `vault.master_key`, or null. */
  keyFile: string | null = null,
): { result: CheckResult; masterKey: string | undefined } {
  const split = `split into shares, ${custody.threshold} of ${custody.shares} unseal it`
  if (keyFile !== null) {
    // A split killed between its two writes, or the line put back by hand: the shares seal nothing.
    return {
      result: fail(
        'master key',
        `${split}, but ${keyFile} still holds vault.master_key, so whoever reads that file has the key: delete that line (the split writes custody.json first, then removes it; an interrupted split can leave both)`,
      ),
      masterKey: undefined,
    }
  }
  if (envKey)
    return {
      result: pass('master key', `${split}; AEGIS_MASTER_KEY is set and bypasses the seal`),
      masterKey: envKey,
    }
  let key: Buffer | null
  try {
    key = readUnsealedKey(dataDir, custody)
  } catch (err) {
    return {
      result: fail('master key', `${errorMessage(err)} (run aegis vault seal, then aegis vault unseal)`),
      masterKey: undefined,
    }
  }
  if (key === null) {
    return {
      result: warn('master key', `${split}; the vault is sealed (aegis vault unseal)`),
      masterKey: undefined,
    }
  }
  const masterKey = key.toString('utf8')
  key.fill(0)
  return { result: pass('master key', `${split}; unsealed (unsealed.key)`), masterKey }
}

/** The data directory exists and only its owner can enter it. */
export function checkDataDir(dataDir: string): CheckResult {
  if (!existsSync(dataDir)) return fail('data dir', `${dataDir} does not exist (run aegis init)`)
  const stat = statSync(dataDir)
  if (!stat.isDirectory()) return fail('data dir', `${dataDir} is not a directory`)
  if ((stat.mode & 0o077) !== 0) {
    return warn(
      'data dir',
      `${dataDir} is mode ${octalMode(stat.mode)}, expected 0700 (run: chmod 700 ${dataDir})`,
    )
  }
  return pass('data dir', `${dataDir} (0700)`)
}

/** `vaults.json` parses and lists the active vault. */
export function checkRegistry(dataDir: string, active: string): CheckResult {
  const file = join(dataDir, 'vaults.json')
  if (!existsSync(file)) return fail('vaults.json', `${file} is missing (run aegis init)`)
  try {
    const vaults = listVaults(dataDir)
    const names = vaults.map((v) => v.name)
    if (!names.includes(active)) {
      return fail(
        'vaults.json',
        `active vault "${active}" is not registered (vaults: ${names.join(', ') || 'none'})`,
      )
    }
    return pass('vaults.json', `${vaults.length} vault(s): ${names.join(', ')}`)
  } catch (err) {
    return fail('vaults.json', errorMessage(err))
  }
}

/** Result of opening the active vault: the open vault (caller closes it), its check lines, and its usable credentials. */
export interface VaultChecks {
  vault: Vault | null
  results: CheckResult[]
  /** The credentials that load (metadata only is needed by later checks). */
  credentials: CredentialInfo[]
}

/**
 * Opens the active vault (database readable, schema and key check) and tries every credential row
 * (`loadCredentials`): a wrong key, a damaged row or a secret the gate cannot recognise shows up
 * here, by name, rather than at the gate.
 */
export function checkVault(opts: {
  dataDir: string
  name: string
  masterKey: string | undefined
  /** The configured salt (`vault.salt`), which must be the vault's own. */
  salt?: Buffer | undefined
}): VaultChecks {
  if (!opts.masterKey) {
    return { vault: null, credentials: [], results: [warn('vault database', 'not checked: no master key')] }
  }
  let vault: Vault
  try {
    vault = openVault({
      dataDir: opts.dataDir,
      name: opts.name,
      masterKey: opts.masterKey,
      ...saltOption(opts.salt),
    })
  } catch (err) {
    if (err instanceof Error && (err as { code?: unknown }).code === 'invalid_master_key') {
      return {
        vault: null,
        credentials: [],
        results: [
          pass('vault database', `vault "${opts.name}" opens`),
          fail('key', `${errorMessage(err)}: the master key does not match vault "${opts.name}"`),
        ],
      }
    }
    return { vault: null, credentials: [], results: [fail('vault database', errorMessage(err))] }
  }
  const results = [pass('vault database', `vault "${opts.name}" opens with the expected schema`)]
  // Rows added, removed or put back outside Aegis: the vault serves nothing, and which rows changed
  // cannot be known — one line for the vault, not a misleading one per row.
  const changed = vault.storedRows().changed
  if (changed !== null) {
    results.push(vaultRowsCheck(opts.name, changed))
    return { vault, credentials: [], results }
  }
  let load: CredentialLoad
  try {
    load = vault.loadCredentials()
  } catch (err) {
    results.push(fail('key', `decrypt test failed: ${errorMessage(err)}`))
    return { vault, credentials: [], results }
  }
  const total = load.credentials.length + load.unavailable.length
  results.push(
    load.unavailable.length === 0
      ? pass('key', `master key decrypts all ${total} credential(s)`)
      : pass(
          'key',
          `master key matches vault "${opts.name}"; ${load.credentials.length} of ${total} credential(s) load`,
        ),
  )
  results.push(...checkCredentials(load))
  results.push(...checkAgents(vault.loadAgents()))
  return { vault, credentials: load.credentials, results }
}

/**
 * One failing line per agent whose stored row the gate cannot use (it refuses that agent's token),
 * and per agent with a stored grant that fails its seal (it grants nothing).
 */
export function checkAgents(agents: readonly AgentRecord[]): CheckResult[] {
  return agents.flatMap((agent) => {
    const lines: CheckResult[] = []
    if (agent.damaged !== undefined) {
      const fix = /seal/.test(agent.damaged)
        ? `if you did not make this change, find out who can write the vault; then aegis agent remove --name ${agent.name} (and add it again)`
        : /rate limit|in-flight/.test(agent.damaged)
          ? `aegis agent set-rate-limit --agent ${agent.name} --limit … --max-in-flight …`
          : `aegis agent regenerate --name ${agent.name}`
      lines.push(
        fail(
          `agent ${agent.name}`,
          `(id ${agent.id}) ${agent.damaged}; the gate refuses its token. Fix: ${fix}`,
        ),
      )
    }
    for (const credentialId of agent.refusedGrants ?? []) {
      lines.push(
        fail(
          `agent ${agent.name}`,
          `a stored grant of credential id ${credentialId} does not match its seal: it was added outside Aegis and grants nothing. Fix: if you did not make this change, find out who can write the vault; aegis agent revoke --agent ${agent.name} --credential <name> removes it`,
        ),
      )
    }
    return lines
  })
}

/**
 * One line per credential the gate cannot use (fail: its service is refused) or cannot fully
 * protect (guard `secretProblems`: a short secret fails, a padded or control-character one warns),
 * naming it and saying how to fix it; one pass line when there is none.
 */
export function checkCredentials(load: CredentialLoad): CheckResult[] {
  const results: CheckResult[] = []
  for (const row of load.unavailable) {
    const fix = /^cannot be decrypted/.test(row.reason)
      ? `aegis vault rotate --name ${row.name}`
      : /stored domain/.test(row.reason)
        ? `aegis vault update --name ${row.name} --domains …`
        : /stored rate limit/.test(row.reason)
          ? `aegis vault update --name ${row.name} --rate-limit …`
          : `aegis vault remove --name ${row.name}, then add it again`
    results.push(
      fail(
        `credential ${row.name}`,
        `service ${row.service} (id ${row.id}) ${row.reason}; the gate refuses it (credential_unavailable). Fix: ${fix}`,
      ),
    )
  }
  for (const credential of load.credentials) {
    const authType = credential.authType ?? 'bearer'
    if ((authType === 'bearer' || authType === 'header') && !headerCanCarry(credential.secret.reveal())) {
      results.push(
        fail(
          `credential ${credential.name}`,
          `service ${credential.service}: its secret has a character beyond U+00FF, which the ${authType} header it is sent in cannot carry; the gate refuses it (credential_unavailable). Fix: aegis vault update --name ${credential.name} --auth-type basic (or query), or aegis vault rotate --name ${credential.name}`,
        ),
      )
      continue
    }
    const problems = secretProblems(credential.secret.reveal())
    if (problems.length === 0) continue
    const detail = `service ${credential.service}: stored ${problems.map((p) => p.message).join('; ')}. Fix: aegis vault rotate --name ${credential.name}`
    const unprotected = problems.some((p) => p.flaw === 'short')
    results.push((unprotected ? fail : warn)(`credential ${credential.name}`, detail))
  }
  if (results.length === 0) {
    results.push(
      pass(
        'credentials',
        `all ${load.credentials.length} credential(s) load and have secrets the gate can recognise`,
      ),
    )
  }
  return results
}

/** Expired credentials fail; credentials expiring within 7 days warn. */
export function checkExpiry(credentials: readonly CredentialInfo[], now: Date): CheckResult {
  const expired = credentials.filter((c) => isExpired(c, now))
  if (expired.length > 0) {
    return fail(
      'expiry',
      `expired: ${expired.map((c) => `${c.name} (${c.expiresAt?.slice(0, 10)})`).join(', ')}`,
    )
  }
  const horizon = new Date(now.getTime() + EXPIRY_WARNING_DAYS * DAY_MS)
  const soon = credentials.filter((c) => isExpired(c, horizon))
  if (soon.length > 0) {
    const list = soon.map((c) => `${c.name} (${c.expiresAt?.slice(0, 10)})`).join(', ')
    return warn('expiry', `expiring within ${EXPIRY_WARNING_DAYS} days: ${list}`)
  }
  return pass('expiry', `no credential expired or expiring within ${EXPIRY_WARNING_DAYS} days`)
}

/** Files under the data directory readable by group/others. */
function exposedFiles(dataDir: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile() && (statSync(path).mode & 0o077) !== 0) {
        out.push(`${relative(dataDir, path)} (${octalMode(statSync(path).mode)})`)
      }
    }
  }
  walk(dataDir)
  return out
}

/**
 * A config file holding a secret must not be readable by others (fail, as `configExposure` says);
 * vault, registry and ledger files should be 0600 (warn).
 */
export function checkPermissions(config: AegisConfig, dataDir: string): CheckResult[] {
  const results: CheckResult[] = []
  const exposure = configExposure(config)
  if (exposure !== null) results.push(fail('config permissions', exposure))
  else if (config.source.file) {
    const mode = config.source.mode === null ? '' : ` (${octalMode(config.source.mode)})`
    results.push(pass('config permissions', `${config.source.file}${mode} exposes no secret`))
  }
  if (existsSync(dataDir)) {
    try {
      const exposed = exposedFiles(dataDir)
      results.push(
        exposed.length > 0
          ? warn('file permissions', `readable by group/others, expected 0600: ${exposed.join(', ')}`)
          : pass('file permissions', 'every file in the data directory is private (0600)'),
      )
    } catch (err) {
      results.push(fail('file permissions', `cannot inspect ${dataDir}: ${errorMessage(err)}`))
    }
  }
  return results
}

/**
 * Staged files a killed write left behind (`.<name>.<hex>.tmp`): beside the config file (or where
 * `aegis init` would write it), whose copy may hold the master key (`init --write-secrets`), and in
 * the data directory (`unsealed.key`, `custody.json`). Nothing else removes them: fail, naming them.
 */
export function checkLeftovers(config: AegisConfig, cwd: string, dataDir: string): CheckResult {
  const configFile = config.source.file ?? join(cwd, DEFAULT_CONFIG_FILE)
  const found = [...stagedLeftovers(dirname(configFile), configFile), ...stagedLeftovers(dataDir)]
  if (found.length === 0) return pass('leftover files', 'no file left by an interrupted write')
  return fail(
    'leftover files',
    `left by an interrupted write, and may hold the master key: ${found.join(', ')} (delete them: rm ${found.join(' ')})`,
  )
}

/** `<data_dir>/ledger.db` opens (and migrates) when present. */
export async function checkLedger(dataDir: string): Promise<CheckResult> {
  const file = join(dataDir, 'ledger.db')
  if (!existsSync(file)) return pass('ledger', 'no ledger yet (the gate creates it on first start)')
  try {
    const ledger = openLedger({ file })
    await ledger.close()
    return pass('ledger', `${file} opens`)
  } catch (err) {
    return fail('ledger', errorMessage(err))
  }
}

/**
 * `rate_limit.redis.url`, when set: Redis answers (and which version), or what requests needing
 * a budget get while it does not. Without a URL budgets are per gate: a pass that says so.
 */
export async function checkRedis(config: AegisConfig): Promise<CheckResult> {
  const limiter = rateLimiterFromConfig(config)
  if (limiter === undefined) return pass('redis', 'not configured: each gate keeps its own rate budgets')
  const where = redactRedisUrl(config.rate_limit.redis.url ?? '')
  try {
    await limiter.waitReady()
    return pass(
      'redis',
      `Redis ${await limiter.serverVersion()} at ${where} answers; rate budgets are shared`,
    )
  } catch (err) {
    const meanwhile =
      config.rate_limit.failure_mode === 'closed'
        ? 'requests that need a rate budget are refused (rate_limit_unavailable)'
        : 'requests that need a rate budget pass without it (failure_mode open)'
    return fail('redis', `Redis at ${where} ${redisTrouble(err)}: ${meanwhile}`)
  } finally {
    await limiter.close()
  }
}

/**
 * The one `vault rows` failure of a vault whose `changed` table is not the set of rows Aegis last
 * wrote (both engines): the gate serves nothing from it, and which rows changed cannot be known.
 */
export function vaultRowsCheck(vaultName: string, changed: string): CheckResult {
  const how =
    changed === 'credentials'
      ? "rows added, removed or put back, or a secret's stored ciphertext replaced or damaged, outside Aegis"
      : 'rows added, removed or put back outside Aegis'
  return fail(
    'vault rows',
    `vault "${vaultName}": its ${changed} table is not the set of rows Aegis last wrote (${how}); the gate serves nothing from it. Fix: if you did not make this change, find out who can write the vault; restore it from a backup, or list its rows with aegis vault reseal --name ${vaultName} and accept them with --confirm`,
  )
}
