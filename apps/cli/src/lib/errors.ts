import { toFlagWording } from './flag-wording.js'

/** An error the CLI reports as one line (`Error: <message>`) with exit status 1. */
export class CliError extends Error {
  override readonly name = 'CliError'
  /** Process exit status; 1 unless a command has a reason to differ. */
  readonly exitCode: number

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.exitCode = options.exitCode ?? 1
  }
}

/** A vault validation error, whose field names are shown as the CLI flags that set them. */
function isInvalidVaultInput(err: unknown): boolean {
  return (
    err instanceof Error && err.name === 'VaultError' && (err as { code?: unknown }).code === 'invalid_input'
  )
}

/** Error names thrown by the Aegis libraries whose messages are written for users. */
const USER_FACING_ERRORS = new Set([
  'CliError',
  'CLIError',
  'ConfigError',
  'CustodyError',
  'VaultError',
  'LedgerError',
  'PolicyError',
  'AccessError',
])

/** True for errors whose message is meant for the user as it is (no "unexpected" hint). */
export function isKnownError(err: unknown): err is Error {
  return err instanceof Error && USER_FACING_ERRORS.has(err.name)
}

/**
 * Messages of the plain CLIErrors oclif's parser throws (parser/parse.js) without its `parse` marker:
 * a type the flag refuses (`--port abc`), a flag given without its value (`--name` last, or followed
 * by another flag), a single-valued flag given twice, an unknown flag token. They exited 1 before.
 */
const PARSER_MESSAGES = [
  /^Parsing --[\w-]+ /,
  /^Flag --[\w-]+ expects (a value|one of these values: )/,
  /^Flag --[\w-]+ can only be (specified once|read from stdin)/,
  /^Unexpected flag /,
]

/** True for errors raised by oclif's argument parser (unknown flag, missing required flag, bad option, ...). */
export function isParseError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  if ('parse' in err) return true
  return err instanceof Error && PARSER_MESSAGES.some((pattern) => pattern.test(err.message))
}

/**
 * oclif echoes unexpected positional arguments, and a forgotten `--secret` turns the secret into one
 * (`vault add --name x sk-live-…`). Replace the echo with a count; everything else is left alone.
 */
export function redactUnexpectedArgs<E extends Error>(err: E): E {
  const args = (err as { args?: unknown }).args
  if (Array.isArray(args) && /^Unexpected argument/.test(err.message)) {
    const n = args.length
    err.message = `Unexpected argument${n === 1 ? '' : 's'} (${n}, not shown in case ${n === 1 ? 'it is' : 'one is'} a secret)`
  }
  return err
}

/** True when `DEBUG` enables the `aegis` namespace (`aegis*`, `aegis:*`, `*`). */
export function debugEnabled(debugEnv: string | undefined): boolean {
  if (!debugEnv) return false
  return debugEnv
    .split(/[\s,]+/)
    .filter((pattern) => pattern !== '' && !pattern.startsWith('-'))
    .some((pattern) => {
      const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`)
      return regex.test('aegis') || regex.test('aegis:cli')
    })
}

/** The one line printed for an error: its message with line breaks folded into spaces. */
/** For a config with several problems: how many more there are, and where they are listed. */
export function moreProblems(err: Error): string {
  const problems = (err as { problems?: readonly string[] }).problems
  if (err.name !== 'ConfigError' || !problems || problems.length < 2) return ''
  const more = problems.length - 1
  return ` (and ${more} more problem${more === 1 ? '' : 's'}: aegis config validate lists them)`
}

export function errorLine(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err)
  if (isInvalidVaultInput(err)) message = toFlagWording(message)
  const line = message.replace(/\s*\n\s*/g, ' ').trim()
  if (isKnownError(err)) return `Error: ${line}${moreProblems(err)}`
  return `Error: ${line || 'unexpected failure'} (set DEBUG=aegis* for details)`
}
