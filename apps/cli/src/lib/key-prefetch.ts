/**
 * A head start on the vault key. Opening a vault derives its key with PBKDF2 (210,000 rounds of
 * HMAC-SHA512, ~0.1 s of CPU), which used to run on the event loop after oclif, the command and the
 * config had loaded: 0.1 s of `aegis vault list`'s 0.29 s. `bin/run.js` calls `prefetchVaultKey`
 * before it loads oclif, for the commands that open the active vault; the key is then derived on
 * libuv's thread pool (another core) while the command loads, and `openVault` finds it ready
 * (bench/results/2026-12-07-vault-key.md).
 *
 * Only ever a guess: it reads the same config the command will (`--config`, AEGIS_* variables,
 * ./aegis.config.yaml) with the same loader, but any error, an unknown vault or PostgreSQL storage
 * just means no head start, and the command finds and reports it. A guess that turns out wrong
 * (another key or vault than the command uses) derives a key nobody uses: the derived keys are
 * cached by (key, salt), so it can never stand in for another.
 */

/** Commands (oclif ids) that open the active vault with the master key. */
const OPENS_ACTIVE_VAULT: ReadonlySet<string> = new Set([
  'agent:add',
  'agent:grant',
  'agent:list',
  'agent:regenerate',
  'agent:remove',
  'agent:revoke',
  'agent:set-rate-limit',
  'dashboard',
  'gate',
  'mcp:serve',
  'run',
  'vault:add',
  'vault:list',
  'vault:remove',
  'vault:rotate',
  'vault:update',
  'webhook:add',
  'webhook:check-expiry',
  'webhook:test',
])

let prefetched: Promise<void> = Promise.resolve()

/** The oclif id of a command line: `vault list` and `vault:list` are both `vault:list`. */
function commandId(argv: readonly string[]): string {
  const [first = '', second] = argv
  if (first.includes(':') || second === undefined || second.startsWith('-')) return first
  return OPENS_ACTIVE_VAULT.has(`${first}:${second}`) ? `${first}:${second}` : first
}

/** `--help` or `-h` before any `--`: oclif prints the command's help and opens nothing. */
function asksForHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '--help' || arg === '-h') return true
  }
  return false
}

/** The value of `--config` (`--config <file>` or `--config=<file>`), before any `--`. */
function configFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') return undefined
    if (arg === '--config') return argv[i + 1]
    if (arg.startsWith('--config=')) return arg.slice('--config='.length)
  }
  return undefined
}

/**
 * Starts deriving the active vault's key when the command line is one that opens it (see above).
 * Returns at once; `vaultKeyPrefetched()` settles when the derivation has ended.
 */
export async function prefetchVaultKey(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<void> {
  if (!OPENS_ACTIVE_VAULT.has(commandId(argv)) || asksForHelp(argv)) return
  try {
    const { prepareActiveVault } = await import('./active-vault-key.js')
    prefetched = prepareActiveVault(configFlag(argv), env, cwd) ?? prefetched
  } catch {
    // The command loads the config again and reports what is wrong with it.
  }
}

/** Settles once the key `prefetchVaultKey` started is derived (at once when none was started). */
export function vaultKeyPrefetched(): Promise<void> {
  return prefetched
}
