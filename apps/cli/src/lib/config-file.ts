import { existsSync, linkSync, renameSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { stageFile } from '@aegis/vault'
import { type OutputFile, outputExists } from './output-file.js'

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

/**
 * Moves a staged file into place at `out.path`; never replaces an existing file (hard link, then
 * unlink): one that appeared since is refused as `outputExists` says.
 */
export function commitFile(staged: string, out: OutputFile): void {
  const target = out.path
  try {
    linkSync(staged, target)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw outputExists(out)
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err
    // No hard links on this file system: fall back to check-then-rename.
    if (existsSync(target)) throw outputExists(out)
    renameSync(staged, target)
    return
  }
  rmSync(staged, { force: true })
}

/** Removes a staged file (no error when it is gone). */
export function discardFile(staged: string): void {
  rmSync(staged, { force: true })
}
