/**
 * Writes `text` to stdout and settles once it has been handed to the file or pipe: rejects when it
 * cannot be (a full disk, a reader that closed the pipe). For output that is shown once — key
 * shares — and must be delivered before the state that depends on it is committed. Not `this.log`:
 * there a full disk's error reached oclif's stdout listener (a crash with a stack) and a closed
 * pipe's was ignored (exit 0), both after the state had changed.
 */
export function writeStdoutOnce(text: string, stdout: NodeJS.WriteStream = process.stdout): Promise<void> {
  // A failed write calls back with the error and then emits it; oclif's own 'error' listener
  // rethrows anything but EPIPE (a crash with a stack). The listeners are set aside for this write;
  // after a failure they stay aside, since a stream that failed fails every later write too.
  const listeners = stdout.listeners('error') as ((error: Error) => void)[]
  const ignore = () => undefined
  stdout.removeAllListeners('error')
  stdout.on('error', ignore)
  return new Promise((resolve, reject) => {
    stdout.write(text, (error) => {
      // The 'error' event follows the callback: settle once it has been emitted.
      setImmediate(() => {
        if (error) {
          reject(error)
          return
        }
        stdout.off('error', ignore)
        for (const listener of listeners) stdout.on('error', listener)
        resolve()
      })
    })
  })
}

/** `ENOSPC`, `EPIPE`, … of a failed write, or its message. */
export function writeFailure(error: unknown): string {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : String((error as Error).message ?? error)
}
