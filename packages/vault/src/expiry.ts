/** True when the credential has an expiry at or before `now`. */
export function isExpired(cred: { expiresAt: string | null }, now: Date): boolean {
  if (cred.expiresAt === null) return false
  const at = Date.parse(cred.expiresAt)
  // An unreadable expiry counts as expired: fail closed.
  return Number.isNaN(at) || at <= now.getTime()
}
