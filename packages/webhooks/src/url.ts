import { isIP } from 'node:net'
import { type AllowList, addressVerdict } from '@aegis/guard'

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', 'localhost.'])

/** The host of a URL without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
}

function isLoopbackHost(host: string): boolean {
  if (LOOPBACK_NAMES.has(host.toLowerCase())) return true
  return isIP(host) !== 0 && addressVerdict(host) === 'loopback'
}

/**
 * Why a webhook URL is refused, or null: it must be absolute `https://` (`http://` only for a
 * loopback host, where nothing crosses a network), carry no user or password (the secret signs,
 * it is not sent), and a literal address must pass the private-address guard like any upstream
 * (`allowPrivate` lists the exceptions). Host names are checked when delivering, on every DNS
 * answer (see `attemptDelivery`).
 */
export function webhookUrlProblem(text: string, allowPrivate?: AllowList): string | null {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'expected an absolute URL such as https://hooks.example.com/aegis'
  }
  const host = bareHost(url)
  if (url.protocol === 'http:' && !isLoopbackHost(host)) {
    return 'http:// is allowed only for a loopback host (localhost, 127.0.0.1, ::1); use https://'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'expected an https:// URL'
  if (url.username !== '' || url.password !== '') return 'a user or password in the URL is not allowed'
  const literal = isIP(host) !== 0 ? host : LOOPBACK_NAMES.has(host.toLowerCase()) ? '127.0.0.1' : null
  if (literal !== null) {
    const verdict = addressVerdict(literal, allowPrivate)
    if (verdict !== null) {
      return `${host} is a ${verdict} address; webhooks may target it only when gate.upstream.allow_private lists it`
    }
  }
  return null
}
