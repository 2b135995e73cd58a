import { type DomainPattern, parseDomainPattern } from './domain.js'
import { parseRate, type Rate } from './rate.js'

/** A credential's allowlist and rate, parsed, or what keeps the stored text from being used. */
export type StoredSettings =
  | { ok: true; domains: DomainPattern[]; rate: Rate | null }
  | { ok: false; problem: string }

/**
 * Parses a credential's stored domains and rate the way the gate serves them. The vault checks
 * both on write; a row edited since may hold anything, and then the credential must not be served
 * (an empty allowlist would refuse every request anyway, a rate that does not parse would not be
 * enforced). `problem` reads after the credential's name: `has an invalid stored domain: …`.
 */
export function parseStoredSettings(domains: readonly string[], rateLimit: string | null): StoredSettings {
  if (domains.length === 0) return { ok: false, problem: 'has no stored domain' }
  const patterns: DomainPattern[] = []
  for (const text of domains) {
    const parsed = parseDomainPattern(text)
    if (!parsed.ok) return { ok: false, problem: `has an invalid stored domain: ${parsed.reason}` }
    patterns.push(parsed.pattern)
  }
  if (rateLimit === null) return { ok: true, domains: patterns, rate: null }
  try {
    return { ok: true, domains: patterns, rate: parseRate(rateLimit) }
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'unparseable'
    return { ok: false, problem: `has an invalid stored rate limit: ${reason}` }
  }
}
