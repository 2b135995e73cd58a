/** Vault field names as the CLI user knows them (the flags). */
const FIELD_FLAGS: Record<string, string> = {
  authType: '--auth-type',
  headerName: '--header-name',
  queryParam: '--query-param',
  ttlDays: '--ttl',
  expiresAt: '--ttl',
  rateLimit: '--rate-limit',
  bodyInspection: '--body-inspection',
}
/** Plain field names, renamed only where they open the message (`domains: … is not a valid domain`). */
const LEADING_FIELDS = new Set(['name', 'service', 'secret', 'domains', 'scopes'])

/**
 * Rewrites a vault validation message in terms of CLI flags:
 * `headerName is required with authType "header"` → `--header-name is required with --auth-type "header"`.
 */
export function toFlagWording(message: string): string {
  const renamed = message.replace(
    /\b(authType|headerName|queryParam|ttlDays|expiresAt|rateLimit|bodyInspection)\b/g,
    (field) => FIELD_FLAGS[field] ?? field,
  )
  const leading = /^([a-z]+)\b/.exec(renamed)?.[1]
  return leading && LEADING_FIELDS.has(leading) ? `--${renamed}` : renamed
}
