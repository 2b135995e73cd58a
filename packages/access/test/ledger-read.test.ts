import { describe, expect, it } from 'vitest'
import {
  type Actor,
  authorizeLedgerRead,
  BOOTSTRAP,
  LEDGER_VIEW_ROWS,
  ledgerReadPermission,
  ledgerViewRows,
  type Role,
} from '../src/index.js'

const user = (role: Role): Actor => ({ kind: 'user', id: 1, name: role, role })

describe('reading ledger entries: a view is ledger:read, the rest is ledger:export', () => {
  it.each([
    [{ reach: 20 }, 'ledger:read'],
    [{ reach: LEDGER_VIEW_ROWS }, 'ledger:read'],
    [{ reach: LEDGER_VIEW_ROWS + 1 }, 'ledger:export'],
  ] as const)('%j needs %s', (read, permission) => {
    expect(ledgerReadPermission(read)).toBe(permission)
  })

  it('a viewer is refused an export, and told why; operator, admin and bootstrap are not', () => {
    expect(authorizeLedgerRead(user('viewer'), { reach: 501 })).toEqual({
      allowed: false,
      reason: 'viewer may not ledger:export (more than the newest 500 entries is an export)',
    })
    expect(authorizeLedgerRead(user('viewer'), { reach: 500 }).allowed).toBe(true)
    for (const actor of [user('operator'), user('admin'), BOOTSTRAP]) {
      expect(authorizeLedgerRead(actor, { reach: 100_000 }).allowed).toBe(true)
    }
  })

  it('pages: a viewer is bounded to the view, an exporter is not', () => {
    expect(ledgerViewRows(user('viewer'))).toBe(LEDGER_VIEW_ROWS)
    expect(ledgerViewRows(user('operator'))).toBeNull()
    expect(ledgerViewRows(BOOTSTRAP)).toBeNull()
  })

  it('an unknown role (a row edited by hand) is bounded too: fail closed', () => {
    expect(ledgerViewRows({ kind: 'user', id: 2, name: 'x', role: 'root' as Role })).toBe(LEDGER_VIEW_ROWS)
  })
})
