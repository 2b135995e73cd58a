import { METHODS } from 'node:http'
import { isHttpToken, type Refusal, refuse } from '@aegis/guard'
import type { ProxyRequestArgs } from './request.js'

/**
 * The methods the gate's HTTP parser reads as a request (llhttp's list); CONNECT is refused
 * `bad_request` at the gate (it is no forward proxy), the rest go through the pipeline (scopes).
 */
const PARSED_METHODS: ReadonlySet<string> = new Set(METHODS.filter((m) => m !== 'CONNECT'))

/** Field values: visible characters, spaces and tabs; no CR, LF, NUL or other controls. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * What the HTTP gate would refuse before its pipeline runs, for the request a tool call stands for:
 * a method its parser does not take or CONNECT, a service or path that would not be the
 * `/{service}{path}` it names, a malformed header, framing headers that contradict the body
 * (`bad_request`), or a request line and header block over `maxHeaderSize` — the gate's own
 * configured limit (`gate.max_header_size`) — as `headers_too_large`. Null when fine.
 *
 * The tool's input schema advertises the strict forms (methods, a path starting with "/") but the
 * values are judged here, so that a call outside them is refused like the gate refuses it — a
 * problem document with its code, and a ledger row — instead of an unrecorded schema error.
 */
export function argumentProblem(args: ProxyRequestArgs, maxHeaderSize: number): Refusal | null {
  if (args.method === 'CONNECT') {
    return refuse('bad_request', 'CONNECT is not supported: Aegis is not a forward proxy')
  }
  if (!PARSED_METHODS.has(args.method)) {
    return refuse(
      'bad_request',
      'The method is not an HTTP method (method names are case-sensitive: GET, POST, …)',
    )
  }
  if (args.service === '' || /[/?#]/.test(args.service)) {
    return refuse('bad_request', 'A service name is one path segment: not empty, no "/", "?" or "#"')
  }
  if (!args.path.startsWith('/')) return refuse('bad_request', 'The path starts with "/"')
  return headerProblem(args, maxHeaderSize)
}

function headerProblem(args: ProxyRequestArgs, maxHeaderSize: number): Refusal | null {
  // The gate's parser counts the request line with the header block.
  let size = args.method.length + 1 + args.service.length + 1 + args.path.length + 11
  let contentLength: string[] = []
  let transferEncoding = false
  for (const [name, value] of Object.entries(args.headers ?? {})) {
    if (!isHttpToken(name)) return refuse('bad_request', 'A header name has characters HTTP does not allow')
    if (!HEADER_VALUE.test(value)) {
      return refuse('bad_request', `Header "${name}" has characters HTTP does not allow (CR, LF or NUL)`)
    }
    const lower = name.toLowerCase()
    if (lower === 'content-length') contentLength = [...contentLength, value]
    else if (lower === 'transfer-encoding') transferEncoding = true
    size += name.length + value.length + 4
  }
  if (size > maxHeaderSize) {
    return refuse(
      'headers_too_large',
      `Request headers of ${size} bytes are over the limit of ${maxHeaderSize}`,
    )
  }
  return framingProblem(args.body, contentLength, transferEncoding)
}

/**
 * The body is sent whole, framed by the gate; a `Content-Length` the agent adds must not say
 * otherwise (the gate's parser refuses a repeated, malformed or contradicted length, and a length
 * beside `Transfer-Encoding`).
 */
function framingProblem(body: string | undefined, contentLength: string[], chunked: boolean): Refusal | null {
  if (contentLength.length === 0) return null
  const bodyBytes = body === undefined ? 0 : Buffer.byteLength(body, 'utf8')
  const [only] = contentLength
  if (contentLength.length > 1 || chunked || only === undefined || !/^\d{1,16}$/.test(only.trim())) {
    return refuse(
      'bad_request',
      'Conflicting framing: Content-Length must be one number, without Transfer-Encoding',
    )
  }
  if (Number(only.trim()) !== bodyBytes) {
    return refuse(
      'bad_request',
      `Conflicting framing: Content-Length ${only.trim()} for a body of ${bodyBytes} bytes`,
    )
  }
  return null
}
