/**
 * Links in an upstream's answer (`Link`, `Location`, `Content-Location`) name the upstream itself:
 * `<https://api.github.com/repositories/1/issues?page=2>; rel="next"`. A client that follows one —
 * Octokit's pagination, fetch following a redirect — would leave the gate: the call would go straight
 * to the API, without the vault credential and with whatever the agent put in the SDK's key slot (its
 * Aegis token). The links that name the upstream a bare service path reaches are rebased onto the
 * gate, where the agent called it (`http://127.0.0.1:3100/github/repositories/1/issues?page=2`).
 * Every other link is left as the upstream wrote it.
 */

/** Where links are rebased from and to. */
export interface LinkRebase {
  /** The upstream a bare service path reaches: its host (lowercase, as the allowlist holds it) and port. */
  readonly host: string
  readonly port: number
  /** Where the agent reaches that upstream, without a trailing slash: `http://127.0.0.1:3100/github`. */
  readonly base: string
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/

/**
 * The reference rebased onto the gate, or null when it names something else (another host, port or
 * scheme, credentials in the authority) or is relative to the request's own path (`page2`, `?p=2`:
 * the client resolves those against the gate's URL already).
 */
export function rebaseReference(reference: string, to: LinkRebase): string | null {
  const text = reference.trim()
  // `/x?y`: an absolute path on the upstream. Prefixing keeps a path that a URL parser would read
  // as an authority (`/\evil.example`) inside the gate's path.
  if (text.startsWith('/') && !text.startsWith('//') && !text.startsWith('/\\')) return to.base + text
  let url: URL
  try {
    if (SCHEME.test(text)) url = new URL(text)
    else if (text.startsWith('//')) url = new URL(`https:${text}`)
    else return null
  } catch {
    return null
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return null
  if (url.hostname !== to.host || (url.port === '' ? 443 : Number(url.port)) !== to.port) return null
  return to.base + (restAsWritten(text) ?? url.pathname + url.search + url.hash)
}

/** Printable ASCII other than a backslash: what a URL parser reads as written. */
const PLAIN = /^[!-[\]-~]*$/
/** A `.` or `..` segment, percent-encoded or not: a URL parser would resolve it away. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:[/?#]|$)/i

/**
 * The path, query and fragment of an absolute or scheme-relative URL exactly as the upstream wrote
 * them (`'` and `%2F` kept where a URL parser would re-encode or resolve), or null when the URL
 * parser's reading differs from the text (no path, a backslash, a dot segment, a character it
 * encodes): then its serialization is used.
 */
function restAsWritten(text: string): string | null {
  const authority = text.indexOf('//') + 2
  let end = authority
  while (end < text.length && !'/?#\\'.includes(text.charAt(end))) end++
  const rest = text.slice(end)
  if (!rest.startsWith('/') || !PLAIN.test(rest)) return null
  const hash = rest.indexOf('#')
  const query = rest.indexOf('?')
  const pathEnd =
    query === -1 ? (hash === -1 ? rest.length : hash) : hash === -1 ? query : Math.min(query, hash)
  return DOT_SEGMENT.test(rest.slice(0, pathEnd)) ? null : rest
}

/** Each `<target>` of a `Link` value (RFC 8288) that `rebaseReference` rebases; the rest unchanged. */
export function rebaseLinkValue(value: string, to: LinkRebase): string {
  return value.replace(/(^|,)(\s*)<([^>]*)>/g, (whole, comma: string, space: string, target: string) => {
    const rebased = rebaseReference(target, to)
    return rebased === null ? whole : `${comma}${space}<${rebased}>`
  })
}

/** Whether a response's header record has a header `rebaseLinkHeaders` rewrites: three property reads. */
export function hasLinkHeaders(headers: Readonly<Record<string, string | string[]>>): boolean {
  return (
    headers.link !== undefined || headers.location !== undefined || headers['content-location'] !== undefined
  )
}

/**
 * Rebases the link headers of a response's header record in place (`link`, `location`,
 * `content-location`, lowercase as the gate's records hold them). Nothing when `to` is null.
 */
export function rebaseLinkHeaders(headers: Record<string, string | string[]>, to: LinkRebase | null): void {
  if (to === null) return
  const { link, location } = headers
  const contentLocation = headers['content-location']
  if (link !== undefined) {
    headers.link = Array.isArray(link) ? link.map((v) => rebaseLinkValue(v, to)) : rebaseLinkValue(link, to)
  }
  if (location !== undefined) headers.location = rebaseEach(location, to)
  if (contentLocation !== undefined) headers['content-location'] = rebaseEach(contentLocation, to)
}

function rebaseEach(value: string | string[], to: LinkRebase): string | string[] {
  if (Array.isArray(value)) return value.map((v) => rebaseReference(v, to) ?? v)
  return rebaseReference(value, to) ?? value
}
