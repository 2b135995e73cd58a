import { describeCoding, isDecodable, listCodings } from '@aegis/inspect'

/**
 * The upstream answered with a body coding the gate cannot undo, so cannot redact: a content
 * coding it does not decode (`zstd`, `compress`, …), two codings stacked (`gzip, gzip`, or one per
 * header line), or a transfer coding other than `chunked`. `detail` names only registered coding
 * names (an arbitrary header value may echo a secret).
 */
export class UnredactableResponseError extends Error {
  constructor(detail: string) {
    super(detail)
    this.name = 'UnredactableResponseError'
  }
}

function valuesOf(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string[] {
  const out: string[] = []
  for (const key in headers) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue
    const value = headers[key]
    if (typeof value === 'string') out.push(value)
    else if (Array.isArray(value)) out.push(...value)
  }
  return out
}

/**
 * The content coding to undo before redaction, decided from the upstream's RAW headers — every
 * value of every `Content-Encoding` and `Transfer-Encoding` line, before anything (a `Connection`
 * that names them, say) removes one: `null` for none (`identity` and empty items count as none),
 * else the one decodable coding. Anything else throws `UnredactableResponseError`: stacked codings
 * are refused rather than undone in turn (no server needs them, and each layer is another bomb).
 */
export function responseCoding(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | null {
  const transfer = listCodings(valuesOf(headers, 'transfer-encoding'))
  // The HTTP client undoes exactly one `chunked`; any other transfer coding would reach the agent.
  if (transfer.length > 1 || (transfer.length === 1 && transfer[0] !== 'chunked')) {
    const other = transfer.find((c) => c !== 'chunked') ?? 'chunked'
    throw new UnredactableResponseError(
      `the upstream sent a transfer coding the gate cannot decode (${describeCoding(other)}${transfer.length > 1 ? ' in a list' : ''})`,
    )
  }
  const content = listCodings(valuesOf(headers, 'content-encoding'))
  if (content.length === 0) return null
  if (content.length > 1) {
    throw new UnredactableResponseError(
      `the upstream stacked ${content.length} content codings (${content.map(describeCoding).join(', ')}); the gate decodes one`,
    )
  }
  const coding = content[0] as string
  if (!isDecodable(coding)) {
    throw new UnredactableResponseError(
      `the upstream sent a content coding the gate cannot decode for redaction (${describeCoding(coding)})`,
    )
  }
  return coding
}
