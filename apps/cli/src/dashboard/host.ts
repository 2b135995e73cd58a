/**
 * The Host allowlist, checked before anything else: a page on another origin whose DNS name was
 * re-pointed at 127.0.0.1 (DNS rebinding) reaches this server with its own name in `Host`, and is
 * refused here before it can read anything. The rule is the gate's (`hostAllowed` of
 * @aegis/guard: IP addresses, localhost, *.localhost and `dashboard.allowed_hosts`), except that
 * a request without a Host header is refused: every browser sends one.
 */
import { type HostAllowlist, hostAllowed, parseHostAllowlist } from '@aegis/guard'

export type { HostAllowlist }

/** The names this dashboard answers to, from `dashboard.allowed_hosts`. */
export function dashboardHosts(names: readonly string[]): HostAllowlist {
  return parseHostAllowlist(names)
}

/** Whether a request's `Host` header names this dashboard. Missing or malformed: no. */
export function isAllowedHost(header: string | undefined, allow: HostAllowlist): boolean {
  return header !== undefined && header !== '' && hostAllowed(header, allow)
}
