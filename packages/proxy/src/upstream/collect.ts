import type { Readable } from 'node:stream'

/**
 * Reads a whole request body; rejects when the stream fails or closes first. Past `limit` bytes it
 * stops reading — without destroying the stream,
 * so the caller can still answer 413 on the connection — and resolves null.
 */
export function collectBody(body: Readable, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = () => {
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onError)
      body.off('close', onClose)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        body.pause()
        resolve(null)
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    // A stream destroyed without an error ends with 'close' alone.
    const onClose = () => onError(new Error('The body stream closed before it ended'))
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
    body.once('close', onClose)
  })
}
