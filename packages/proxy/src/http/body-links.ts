import type { IncomingMessage } from 'node:http'
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream'
import { isJsonContentType, JsonLinkRebaser, type LinkRebase, rebaseJsonLinks } from '@aegis/guard'
import type { AnswerUpstream, ForwardedOutcome } from '../engine.js'
import { gateLinkBase } from './links.js'

/**
 * The upstream whose links a JSON answer's body may hold (`@odata.nextLink`, `next_page`, …, see
 * `@aegis/guard`'s `JsonLinkRebaser`), or null when the body is not looked at: not JSON, no body
 * (HEAD, 204, 304), or an answer from another host than the service's bare path reaches.
 */
export function bodyLinkUpstream(req: IncomingMessage, outcome: ForwardedOutcome): AnswerUpstream | null {
  if (req.method === 'HEAD' || outcome.status === 204 || outcome.status === 304) return null
  if (!isJsonContentType(outcome.headers['content-type'])) return null
  return outcome.upstream()
}

/**
 * A whole (small, already redacted) JSON body with its page links rebased onto the gate, its
 * `Content-Length` set to match; the parts as they are (never copied) when none is rebased. A body
 * without the upstream's host costs one `indexOf` per part.
 */
export function rebasePartsLinks(
  req: IncomingMessage,
  outcome: ForwardedOutcome,
  upstream: AnswerUpstream,
  parts: readonly Buffer[],
  maxGrowth: number,
): readonly Buffer[] {
  if (!holdsText(parts, upstream.host)) return parts
  const to = gateLinkBase(req, outcome)
  if (to === null) return parts
  const rebased = rebaseJsonLinks(parts, to, { maxGrowth })
  if (rebased === null) return parts
  let length = 0
  for (const part of rebased) length += part.length
  outcome.headers['content-length'] = String(length)
  return rebased
}

/**
 * A streamed JSON body with its page links rebased as it passes (nothing buffered: a link cut by a
 * chunk boundary holds back only its own bytes). Destroying the result destroys `body` (the
 * upstream request is aborted), and an error of `body` (a timeout, a compression bomb) is the
 * result's error, as the delivery records it.
 */
export function rebaseStreamLinks(
  req: IncomingMessage,
  outcome: ForwardedOutcome,
  body: Readable,
  maxGrowth: number,
): Readable {
  const to = gateLinkBase(req, outcome)
  if (to === null) return body
  const rebasing = new RebaseTransform(to, maxGrowth)
  pipeline(body, rebasing, () => undefined)
  return rebasing
}

class RebaseTransform extends Transform {
  readonly #rebaser: JsonLinkRebaser

  constructor(to: LinkRebase, maxGrowth: number) {
    super()
    this.#rebaser = new JsonLinkRebaser(to, { maxGrowth })
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out = this.#rebaser.push(chunk)
    callback(null, out.length === 0 ? undefined : out)
  }

  override _flush(callback: TransformCallback): void {
    const tail = this.#rebaser.end()
    callback(null, tail.length === 0 ? undefined : tail)
  }
}

/** Whether `text` (ASCII) is in the parts, across their boundaries too. */
function holdsText(parts: readonly Buffer[], text: string): boolean {
  for (const part of parts) if (part.indexOf(text, 0, 'latin1') !== -1) return true
  if (parts.length < 2) return false
  // Across a boundary: the last bytes before a part (of one part or several small ones) and its first.
  const edge = text.length - 1
  let tail: Buffer = Buffer.alloc(0)
  for (const part of parts) {
    if (tail.length > 0 && Buffer.concat([tail, part.subarray(0, edge)]).indexOf(text, 0, 'latin1') !== -1)
      return true
    const joined = part.length >= edge ? part : Buffer.concat([tail, part])
    tail = joined.subarray(Math.max(0, joined.length - edge))
  }
  return false
}
