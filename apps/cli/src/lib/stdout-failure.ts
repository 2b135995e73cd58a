/**
 * What a command does when its standard output cannot be written — a full disk or a file system
 * error under `aegis … > file`, `> /dev/full`: one line on stderr naming the failure, exit 1. oclif's
 * own stdout 'error' listener rethrows every error but EPIPE, so such a command ended in an uncaught
 * exception with a stack trace. EPIPE (the reader went away: `| head`) stays quiet, as with oclif.
 * `writeStdoutOnce` (one-time output) sets these listeners aside for its own write and reports there.
 */
export function handleStdoutFailure(
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): void {
  stdout.removeAllListeners('error')
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') return
    stderr.write(
      `Error: Cannot write to standard output (${stdoutFailure(error)}): the output is incomplete\n`,
    )
    process.exit(1)
  })
}

/** `ENOSPC: no space left on device` of a failed write (the system's words, without the syscall). */
function stdoutFailure(error: NodeJS.ErrnoException): string {
  const words = (error.message ?? '').split(',')[0] ?? ''
  if (typeof error.code === 'string') return words.startsWith(error.code) ? words : `${error.code}: ${words}`
  return words || 'unknown error'
}
