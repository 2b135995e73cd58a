/**
 * The one wording of a file a command cannot create where it was asked to (`ledger export -o`,
 * `init --config`): what is in the way and what to do about it, never a bare errno. Aegis never
 * overwrites such a file.
 */
import { statSync } from 'node:fs'
import { dirname } from 'node:path'
import { CliError } from './errors.js'

export interface OutputFile {
  /** The path as the user gave it (or as the command resolved it). */
  path: string
  /** The flag that names it, for the way out (`-o`, `--config`). */
  flag: string
  /** What the file is (`Config file`); default `File`. */
  what?: string
  /** The way out when the file already exists; default: another path, or remove it first. */
  whenExists?: string
}

/** The refusal of a path that is already taken: a folder, or a file Aegis will not overwrite. */
export function outputExists(out: OutputFile): CliError {
  if (isFolder(out.path)) {
    return new CliError(`${out.path} is a folder: give the path of a new file with ${out.flag}`)
  }
  const wayOut = out.whenExists ?? `choose another path with ${out.flag}, or remove it first`
  return new CliError(
    `${out.what ?? 'File'} already exists: ${out.path} (Aegis never overwrites it: ${wayOut})`,
  )
}

/** Why `out.path` could not be created (the error of the open, link or rename), said with the way out. */
export function outputFileError(out: OutputFile, error: unknown): CliError {
  const code = (error as { code?: unknown }).code
  const folder = dirname(out.path)
  const elsewhere = `choose another path with ${out.flag}`
  switch (code) {
    case 'EEXIST':
    case 'EISDIR':
      return outputExists(out)
    case 'ENOENT':
      return new CliError(
        `Cannot write ${out.path}: the folder ${folder} does not exist; create it first, or ${elsewhere}`,
        { cause: error },
      )
    case 'ENOTDIR':
      return new CliError(
        `Cannot write ${out.path}: ${fileInTheWay(folder) ?? folder} is a file, not a folder; ${elsewhere}`,
        { cause: error },
      )
    case 'EACCES':
    case 'EPERM':
      return new CliError(
        `Cannot write ${out.path}: no permission to create a file in ${folder}; ${elsewhere}`,
        { cause: error },
      )
    case 'EROFS':
      return new CliError(`Cannot write ${out.path}: ${folder} is on a read-only file system; ${elsewhere}`, {
        cause: error,
      })
    case 'ENOSPC':
      return new CliError(`Cannot write ${out.path}: no space left on the device; ${elsewhere}`, {
        cause: error,
      })
    case 'ENAMETOOLONG':
      return new CliError(`Cannot write ${out.path}: the path is too long; ${elsewhere}`, { cause: error })
    default:
      return new CliError(`Cannot write ${out.path} (${typeof code === 'string' ? code : 'error'})`, {
        cause: error,
      })
  }
}

/**
 * The refusal of a path whose folder is missing or not a folder, before anything is made (null: the
 * folder is there).
 */
export function missingFolder(out: OutputFile): CliError | null {
  const folder = dirname(out.path)
  if (isFolder(folder)) return null
  return outputFileError(out, { code: fileInTheWay(folder) === null ? 'ENOENT' : 'ENOTDIR' })
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** The nearest of `folder` and its parents that exists and is not a folder (null: none is). */
function fileInTheWay(folder: string): string | null {
  for (let at = folder; ; at = dirname(at)) {
    try {
      return statSync(at).isDirectory() ? null : at
    } catch {
      if (dirname(at) === at) return null
    }
  }
}
