import type { CredentialInfo } from '@aegis/vault'
import { renderTable } from './table.js'

/** The `vault list --json` shape (interface.md §6): metadata only, built field by field. */
export interface CredentialJson {
  id: string
  name: string
  service: string
  domains: string[]
  authType: string
  headerName?: string
  queryParam?: string
  scopes: string[]
  expiresAt: string | null
  rateLimit: string | null
  bodyInspection: string
  createdAt: string
  updatedAt: string
  rotatedAt: string | null
}

/** Copies the public fields of a credential; nothing else (and never a secret) can slip through. */
export function credentialJson(info: CredentialInfo): CredentialJson {
  return {
    id: info.id,
    name: info.name,
    service: info.service,
    domains: [...info.domains],
    authType: info.authType,
    ...(info.headerName ? { headerName: info.headerName } : {}),
    ...(info.queryParam ? { queryParam: info.queryParam } : {}),
    scopes: [...info.scopes],
    expiresAt: info.expiresAt,
    rateLimit: info.rateLimit,
    bodyInspection: info.bodyInspection,
    createdAt: info.createdAt,
    updatedAt: info.updatedAt,
    rotatedAt: info.rotatedAt,
  }
}

/** `bearer`, `header X-Api-Key`, `query key`. */
function authLabel(info: CredentialInfo): string {
  if (info.authType === 'header' && info.headerName) return `header ${info.headerName}`
  if (info.authType === 'query' && info.queryParam) return `query ${info.queryParam}`
  return info.authType
}

/** `2026-03-01` for a date, `never` for none, with `(expired)` once it has passed. */
export function expiryLabel(expiresAt: string | null, now: Date = new Date()): string {
  if (!expiresAt) return 'never'
  const day = expiresAt.slice(0, 10)
  return Date.parse(expiresAt) <= now.getTime() ? `${day} (expired)` : day
}

/** The `vault list` table. */
export function credentialTable(credentials: readonly CredentialInfo[], now: Date = new Date()): string {
  return renderTable(
    ['NAME', 'SERVICE', 'DOMAINS', 'AUTH', 'SCOPES', 'EXPIRES', 'RATE LIMIT', 'INSPECTION'],
    credentials.map((c) => [
      c.name,
      c.service,
      c.domains.join(','),
      authLabel(c),
      c.scopes.join(','),
      expiryLabel(c.expiresAt, now),
      c.rateLimit ?? '-',
      c.bodyInspection,
    ]),
  )
}

/** A short multi-line summary of one credential (for add/update/rotate confirmations). */
export function credentialSummary(info: CredentialInfo): string[] {
  return [
    `  service:    ${info.service}`,
    `  domains:    ${info.domains.join(', ')}`,
    `  auth:       ${authLabel(info)}`,
    `  scopes:     ${info.scopes.join(',')}`,
    `  expires:    ${expiryLabel(info.expiresAt)}`,
    `  rate limit: ${info.rateLimit ?? 'none'}`,
    `  inspection: ${info.bodyInspection}`,
  ]
}
