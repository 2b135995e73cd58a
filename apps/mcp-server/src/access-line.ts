import type { AccessCheck } from '@aegis/access'

/**
 * What the server says when its user may not start it: a role's refusal reads as the CLI's does
 * (`Permission denied: viewer may not gate:start`, the brief's troubleshooting wording) with the way
 * out; a missing or wrong token as it is.
 */
export function accessRefusalLine(check: Extract<AccessCheck, { ok: false }>): string {
  if (check.code !== 'forbidden') return check.message
  return `Permission denied: ${check.message} (an admin can change your role: aegis user role --name <you> --role operator)`
}
