import { PERMISSIONS, ROLE_PERMISSIONS } from '@aegis/access'
import type {
  AgentItem,
  BlockedReport,
  CredentialList,
  LedgerEntry,
  Me,
  Overview,
  Permission,
  UserItem,
} from '../src/api/types.js'

/** A request entry in the `ledger show --json` shape; completed (status/duration set) by default. */
export function entry(id: number, patch: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id,
    time: new Date(Date.UTC(2026, 11, 6, 7, 0, id % 60)).toISOString(),
    requestId: `req-${id}`,
    channel: 'gate',
    agent: 'coder',
    credential: 'gh',
    service: 'github',
    targetHost: 'api.github.com',
    method: 'GET',
    path: `/repos/acme/app/issues/${id}`,
    decision: 'allowed',
    code: null,
    status: 200,
    durationMs: 42,
    bytesIn: 0,
    bytesOut: 1234,
    ...patch,
  }
}

/** An entry as appended before its response completed. */
export function inflight(id: number, patch: Partial<LedgerEntry> = {}): LedgerEntry {
  return entry(id, { status: null, durationMs: null, bytesIn: null, bytesOut: null, ...patch })
}

/** What /api/me lists for each role: the real role table, so fixtures cannot drift from it. */
const held = (role: 'admin' | 'operator' | 'viewer'): Permission[] => [...ROLE_PERMISSIONS[role]]
export const ALL_PERMISSIONS: Permission[] = PERMISSIONS.map((p) => p.permission)

export const ADMIN: Me = { actor: { kind: 'user', name: 'alice', role: 'admin' }, permissions: held('admin') }
export const OPERATOR: Me = {
  actor: { kind: 'user', name: 'otto', role: 'operator' },
  permissions: held('operator'),
}
export const VIEWER: Me = {
  actor: { kind: 'user', name: 'victor', role: 'viewer' },
  permissions: held('viewer'),
}
export const BOOTSTRAP_ME: Me = { actor: { kind: 'bootstrap' }, permissions: ALL_PERMISSIONS }

export function overview(patch: Partial<Overview> = {}): Overview {
  const start = Date.UTC(2026, 11, 6, 6, 0, 0)
  return {
    gate: {
      mode: 'embedded',
      url: 'http://127.0.0.1:3100',
      reachable: true,
      sealed: false,
      status: 'ok',
      vault: 'default',
    },
    window: { seconds: 300, requests: 12, reqPerS: 0.04, blocked: 3, blockRate: 0.25, failed: 1, p95Ms: 42 },
    timeline: {
      bucketSeconds: 60,
      buckets: Array.from({ length: 60 }, (_, i) => ({
        t: new Date(start + i * 60_000).toISOString(),
        allowed: i % 3,
        blocked: i === 59 ? 5 : 0,
        failed: i === 30 ? 1 : 0,
      })),
    },
    topBlocked: [
      { code: 'domain_not_allowed', count: 5 },
      { code: 'rate_limited', count: 2 },
    ],
    expiring: [{ name: 'gh', service: 'github', expiresAt: '2026-12-09T00:00:00.000Z', daysLeft: 3 }],
    ...patch,
  }
}

export const CREDENTIALS: CredentialList = {
  vault: 'default',
  items: [
    {
      id: 'c1',
      name: 'gh',
      service: 'github',
      domains: ['api.github.com'],
      authType: 'bearer',
      scopes: ['repo:read'],
      expiresAt: '2026-12-09T00:00:00.000Z',
      rateLimit: '100/min',
      bodyInspection: 'warn',
      createdAt: '2026-11-01T00:00:00.000Z',
      updatedAt: '2026-11-01T00:00:00.000Z',
      rotatedAt: null,
    },
    {
      id: 'c2',
      name: 'stripe',
      service: 'stripe',
      domains: ['api.stripe.com'],
      authType: 'header',
      headerName: 'X-Api-Key',
      scopes: [],
      expiresAt: null,
      rateLimit: null,
      bodyInspection: 'block',
      createdAt: '2026-11-01T00:00:00.000Z',
      updatedAt: '2026-11-01T00:00:00.000Z',
      rotatedAt: '2026-11-20T00:00:00.000Z',
    },
  ],
}

export const AGENTS: AgentItem[] = [
  {
    name: 'coder',
    prefix: 'aegis_agent_ab12',
    rateLimit: '60/min',
    maxInFlight: 4,
    grants: ['gh', 'stripe'],
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    tokenRotatedAt: null,
  },
]

export const USERS: UserItem[] = [
  {
    name: 'alice',
    role: 'admin',
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-12-06T06:00:00.000Z',
    lastUsedAt: '2026-12-06T07:15:00.000Z',
  },
  {
    name: 'victor',
    role: 'viewer',
    createdAt: '2026-11-02T00:00:00.000Z',
    updatedAt: '2026-11-02T00:00:00.000Z',
    lastUsedAt: null,
  },
]

export const BLOCKED: BlockedReport = {
  since: '2026-12-05T07:00:00.000Z',
  total: 9,
  groups: [
    { code: 'domain_not_allowed', agent: 'coder', count: 5, lastSeen: '2026-12-06T06:59:00.000Z' },
    { code: 'rate_limited', agent: 'coder', count: 2, lastSeen: '2026-12-06T06:58:00.000Z' },
    { code: 'domain_not_allowed', agent: null, count: 2, lastSeen: '2026-12-06T06:57:00.000Z' },
  ],
}
