import { existsSync, linkSync, renameSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { stageFile } from '@aegis/vault'
import { CliError } from './errors.js'

/** Where `aegis init` writes the config: `--config`, else `$AEGIS_CONFIG`, else `./aegis.config.yaml`. */
export function initConfigPath(cwd: string, flag: string | undefined, envPath: string | undefined): string {
  return resolve(cwd, flag || envPath || 'aegis.config.yaml')
}

/**
 * Writes `content` to a new hidden temp file beside `target` (mode 0600 when `secret`, else 0644)
 * and returns its path. Pair with `commitFile` / `discardFile`.
 */
export function stageConfigFile(target: string, content: string, secret: boolean): string {
  return stageFile(target, content, secret ? 0o600 : 0o644)
}

/** Moves a staged file into place; never replaces an existing file (hard link, then unlink). */
export function commitFile(staged: string, target: string): void {
  try {
    linkSync(staged, target)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new CliError(`File already exists: ${target}`)
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err
    // No hard links on this file system: fall back to check-then-rename.
    if (existsSync(target)) throw new CliError(`File already exists: ${target}`)
    renameSync(staged, target)
    return
  }
  rmSync(staged, { force: true })
}

/** Removes a staged file (no error when it is gone). */
export function discardFile(staged: string): void {
  rmSync(staged, { force: true })
}
