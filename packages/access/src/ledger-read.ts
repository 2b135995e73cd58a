import type { Actor } from './actor.js'
import { authorize, type Decision } from './authorize.js'
import type { Permission } from './permissions.js'

/**
 * What `ledger:read` ("view audit logs") shows of the entries matching a filter: the newest this
 * many. The dashboard's feed shows as many; `aegis ledger show --limit` goes up to it.
 */
export const LEDGER_VIEW_ROWS = 500

/** A read of ledger entries (not of aggregates such as `ledger stats`), as the app is about to do it. */
export interface LedgerRead {
  /**
   * How far back from the newest matching entry the read reaches: a newest-first read of `n` rows
   * reaches `n`; a page behind a cursor reaches every matching entry newer than its oldest row.
   */
  reach: number
}

/**
 * The permission a read of ledger entries needs. `ledger:read` is a view: the newest
 * `LEDGER_VIEW_ROWS` entries of its filter, as a table or as JSON (`ledger show --json` is the same
 * view for a script). Reading further back — more rows at once, or paging past the view, which page
 * after page is the whole ledger — is what `ledger:export` ("export audit logs") guards.
 */
export function ledgerReadPermission(read: LedgerRead): Permission {
  return read.reach > LEDGER_VIEW_ROWS ? 'ledger:export' : 'ledger:read'
}

/** `authorize` for a read of ledger entries; a refusal says why the read is an export. */
export function authorizeLedgerRead(actor: Actor, read: LedgerRead): Decision {
  const permission = ledgerReadPermission(read)
  const decision = authorize(actor, permission)
  if (decision.allowed || permission === 'ledger:read') return decision
  return {
    allowed: false,
    reason: `${decision.reason} (more than the newest ${LEDGER_VIEW_ROWS} entries is an export)`,
  }
}

/**
 * How many of the newest matching entries `actor` may page through: null when it may export (no
 * bound), else `LEDGER_VIEW_ROWS`. An app that serves pages (the dashboard API) keeps every page of
 * such an actor inside that window.
 */
export function ledgerViewRows(actor: Actor): number | null {
  return authorize(actor, 'ledger:export').allowed ? null : LEDGER_VIEW_ROWS
}
