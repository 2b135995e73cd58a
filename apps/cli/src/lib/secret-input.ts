import password from '@inquirer/password'
import { CliError } from './errors.js'

/** Where a secret comes from: the flag value, `-` for stdin, or undefined for "ask". */
export interface SecretSource {
  /** Value of the `--secret` flag, if given. */
  flag: string | undefined
  /** Label for the prompt, e.g. `Secret for slack-bot`. */
  prompt: string
  stdin?: NodeJS.ReadStream
  /** Prompt output; stderr so `--json` keeps stdout clean. */
  output?: NodeJS.WriteStream
}

/** Reads all of a stream as UTF-8. */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Resolves a secret without it having to be on the command line: `-` reads stdin (one trailing
 * newline removed, nothing else trimmed); no flag on a terminal prompts without echo; no flag and
 * no terminal is an error.
 */
export async function readSecret(source: SecretSource): Promise<string> {
  const stdin = source.stdin ?? process.stdin
  if (source.flag === '-') return (await readAll(stdin)).replace(/\r?\n$/, '')
  if (source.flag !== undefined) return source.flag
  if (!stdin.isTTY) throw new CliError('--secret is required (use --secret - to read it from stdin)')
  try {
    return await password(
      { message: source.prompt, mask: false },
      { input: stdin, output: source.output ?? process.stderr },
    )
  } catch (err) {
    if (err instanceof Error && err.name === 'ExitPromptError') throw new CliError('Cancelled')
    throw err
  }
}
