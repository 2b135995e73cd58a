import type { VaultCipher } from './cipher.js'
import type { RowTable } from './row-set.js'
import type { AgentRow, CredentialRow } from './schema.js'

// What `aegis vault reseal` prints before it accepts a vault's rows as they are: every row in
// full (never a secret, a token or its hash), whether its own seal holds, and the first table whose
// set no longer matches the sealed state. Shared by both engines.

export interface StoredRows {
  /** The first table whose rows are not the set Aegis last wrote, or null. */
  changed: RowTable | null
  credentials: Array<{
    name: string
    service: string
    domains: string
    authType: string
    scopes: string
    rateLimit: string | null
    expiresAt: string | null
    bodyInspection: string
    sealHolds: boolean
  }>
  agents: Array<{
    name: string
    prefix: string
    rateLimit: string | null
    maxInFlight: number | null
    sealHolds: boolean
  }>
  grants: Array<{ agent: string; credential: string; sealHolds: boolean }>
}

export function storedRows(
  cipher: VaultCipher,
  changed: RowTable | null,
  credentialRows: readonly CredentialRow[],
  agentRows: readonly AgentRow[],
  grantRows: ReadonlyArray<{ agentId: string; credentialId: string; seal: unknown }>,
): StoredRows {
  const agentName = new Map(agentRows.map((a) => [a.id, a.name]))
  const credentialName = new Map(credentialRows.map((c) => [c.id, c.name]))
  return {
    changed,
    credentials: credentialRows.map((r) => ({
      name: r.name,
      service: r.service,
      domains: r.domains,
      authType: r.authType,
      scopes: r.scopes,
      rateLimit: r.rateLimit,
      expiresAt: r.expiresAt,
      bodyInspection: r.bodyInspection,
      sealHolds: cipher.settingsMatchSeal(r, r.seal),
    })),
    agents: agentRows.map((r) => ({
      name: r.name,
      prefix: r.prefix,
      rateLimit: r.rateLimit,
      maxInFlight: r.maxInFlight,
      sealHolds: cipher.agentMatchesSeal(r, r.seal),
    })),
    grants: grantRows.map((g) => ({
      agent: agentName.get(g.agentId) ?? `(id ${g.agentId})`,
      credential: credentialName.get(g.credentialId) ?? `(id ${g.credentialId})`,
      sealHolds: cipher.grantMatchesSeal(g, g.seal),
    })),
  }
}
