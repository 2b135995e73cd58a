import { LedgerError } from './errors.js'

/**
 * Writes to a caller's stream with backpressure: when `write` returns false, waits for 'drain'.
 * An 'error' or 'close' of the stream ends the export with `LedgerError('output_failed')`.
 * The stream is never ended here — it belongs to the caller.
 */
export class BackpressureWriter {
  private failure: Error | null = null
  private readonly onError = (cause: unknown): void => {
    this.failure ??= new LedgerError('output_failed', 'Ledger export failed: the output stream failed', {
      cause,
    })
  }

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', this.onError)
  }

  async write(chunk: string): Promise<void> {
    this.check()
    if (this.out.write(chunk)) return
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        this.out.off('drain', onDrain)
        this.out.off('error', onFail)
        this.out.off('close', onClose)
        if (error) reject(error)
        else resolve()
      }
      const onDrain = (): void => done()
      const onFail = (cause: unknown): void =>
        done(new LedgerError('output_failed', 'Ledger export failed: the output stream failed', { cause }))
      const onClose = (): void =>
        done(new LedgerError('output_failed', 'Ledger export failed: the output stream closed early'))
      this.out.on('drain', onDrain)
      this.out.on('error', onFail)
      this.out.on('close', onClose)
    })
    this.check()
  }

  /** Detaches from the stream. */
  release(): void {
    this.out.off('error', this.onError)
  }

  private check(): void {
    if (this.failure) throw this.failure
  }
}
