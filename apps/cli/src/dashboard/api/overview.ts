/** The Overview: gate health, the last five minutes, the last hour by minute, top refusals, expiring credentials. */
import type { Actor } from '@aegis/access'
import { authorize } from '@aegis/access'
import type { DashboardDeps } from '../deps.js'
import { ApiError } from '../respond.js'
import type { Route } from './route.js'

const WINDOW_S = 300
const BUCKET_S = 60
const BUCKETS = 60
const DAY_MS = 86_400_000
// "Soon": the first expiry notice of the webhooks fires 14 days ahead, so the Overview does too.
const EXPIRING_DAYS = 14

export interface ExpiringCredential {
  name: string
  service: string
  expiresAt: string
  daysLeft: number
}

/** Credentials expiring within 14 days (or expired), soonest first; null when not allowed or sealed. */
async function expiring(
  deps: DashboardDeps,
  actor: Actor,
  now: number,
): Promise<ExpiringCredential[] | null> {
  if (!authorize(actor, 'vault:read').allowed) return null
  try {
    const list = await deps.vault.use((vault) => vault.list())
    return list
      .filter((c) => c.expiresAt !== null && Date.parse(c.expiresAt) - now <= EXPIRING_DAYS * DAY_MS)
      .map((c) => ({
        name: c.name,
        service: c.service,
        expiresAt: c.expiresAt as string,
        daysLeft: Math.floor((Date.parse(c.expiresAt as string) - now) / DAY_MS),
      }))
      .sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt))
  } catch (error) {
    if (error instanceof ApiError && error.code === 'sealed') return null
    throw error
  }
}

export const overview: Route = {
  method: 'GET',
  pattern: /^\/api\/overview$/,
  permission: 'dashboard:view',
  async handle({ deps, actor }) {
    const now = Date.now()
    const gate = await deps.gateStatus()
    // Whole minutes, the current one last, so buckets do not shift under a chart between polls.
    const end = Math.floor(now / (BUCKET_S * 1000)) * BUCKET_S * 1000 + BUCKET_S * 1000
    const [w, buckets, groups] = await Promise.all([
      deps.ledger.window({ since: new Date(now - WINDOW_S * 1000), until: new Date(now) }),
      deps.ledger.timeline({
        since: new Date(end - BUCKETS * BUCKET_S * 1000),
        until: new Date(end),
        bucketSeconds: BUCKET_S,
      }),
      deps.ledger.blockedGroups({ since: new Date(now - DAY_MS), byAgent: false, limit: 8 }),
    ])
    const topBlocked = groups.map((g) => ({ code: g.code, count: g.count }))
    return {
      gate,
      window: {
        seconds: WINDOW_S,
        requests: w.requests,
        reqPerS: Math.round((w.requests / WINDOW_S) * 1000) / 1000,
        blocked: w.blocked,
        blockRate: w.requests === 0 ? 0 : Math.round((w.blocked / w.requests) * 1000) / 1000,
        failed: w.failed,
        p95Ms: w.p95Ms,
      },
      timeline: { bucketSeconds: BUCKET_S, buckets },
      topBlocked,
      expiring: gate.sealed ? null : await expiring(deps, actor, now),
    }
  },
}
