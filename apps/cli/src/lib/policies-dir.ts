import { readdirSync } from 'node:fs'
import type { AegisConfig } from '@aegis/config'
import { Flags } from '@oclif/core'
import { CliError } from './errors.js'

/** `--policies-dir`, shared by the `policy` commands. */
export const policiesDirFlag = Flags.string({
  description: 'Directory of policy files (default: gate.policies_dir)',
})

/** The policies directory from the flag, else `gate.policies_dir`; a one-line error when neither is set. */
export function policiesDir(flag: string | undefined, config: AegisConfig): string {
  const dir = flag ?? config.gate.policies_dir
  if (!dir && config.source.file === null) {
    throw new CliError(
      'No policies directory: pass --policies-dir (there is no aegis.config.yaml here to set gate.policies_dir; aegis init makes one)',
    )
  }
  if (!dir)
    throw new CliError('No policies directory: pass --policies-dir or set gate.policies_dir in the config')
  return dir
}

/**
 * A long-running command refuses to start on a policies directory it cannot read: a missing or
 * mistyped `--policies-dir` used to start the gate with one log line naming neither path nor cause,
 * then deny every agent. (A broken *file* in a readable folder is different: the gate starts and
 * denies that file's agent, as the contract says.)
 */
export function assertPoliciesDir(dir: string | undefined): void {
  if (dir === undefined) return
  try {
    readdirSync(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const cause =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'ENOTDIR'
          ? 'is not a directory'
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : `cannot be read (${code ?? String(error)})`
    throw new CliError(
      `Policies directory ${dir} ${cause} (--policies-dir / gate.policies_dir): not starting`,
    )
  }
}
