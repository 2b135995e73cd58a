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
  if (!dir)
    throw new CliError('No policies directory: pass --policies-dir or set gate.policies_dir in the config')
  return dir
}
