import type { ReactElement } from 'react'
import { renderToString } from 'react-dom/server'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../src/api/client.js'
import { ConfirmDialog } from '../src/components/ConfirmDialog.js'
import { ErrorBoundary } from '../src/components/ErrorBoundary.js'
import { EMPTY_FILTER } from '../src/feed/filter.js'
import { FEED_CAP } from '../src/feed/state.js'
import { localDateTime } from '../src/lib/format.js'
import { canOf } from '../src/lib/permissions.js'
import { AgentsTable, agentAsks } from '../src/views/Agents.js'
import { BlockedPanel, topCodes } from '../src/views/Blocked.js'
import { CredentialsTable } from '../src/views/Credentials.js'
import { FeedToolbar } from '../src/views/Feed.js'
import { FeedDrawer, FeedTable } from '../src/views/FeedTable.js'
import { LoginForm, tokenFromHash } from '../src/views/Login.js'
import { OverviewPanel } from '../src/views/Overview.js'
import { Forbidden, Shell } from '../src/views/Shell.js'
import { UsersTable, userAsks } from '../src/views/Users.js'
import {
  ADMIN,
  AGENTS,
  BLOCKED,
  BOOTSTRAP_ME,
  CREDENTIALS,
  entry,
  inflight,
  OPERATOR,
  overview,
  USERS,
  VIEWER,
} from './fixtures.js'
import { count, tagOf, text } from './html.js'

const rendered: string[] = []
function render(el: ReactElement): string {
  const html = renderToString(el)
  rendered.push(html)
  return html
}
const noop = () => {}
const NAV = ['overview', 'feed', 'credentials', 'agents', 'users', 'blocked']

describe('shell', () => {
  it('an admin sees every view, who they are, and logout', () => {
    const html = render(
      <Shell me={ADMIN} path="/" onNavigate={noop} onLogout={noop}>
        x
      </Shell>,
    )
    for (const v of NAV) expect(count(html, `nav-${v}`), v).toBe(1)
    expect(text(html, 'whoami')).toBe('alice · admin')
    expect(tagOf(html, 'logout')).toMatch(/^<button/)
    expect(tagOf(html, 'nav-overview')).toContain('aria-current="page"')
  })

  it('a viewer sees no Users and no Agents (the real viewer role), but the feed', () => {
    const html = render(
      <Shell me={VIEWER} path="/feed" onNavigate={noop} onLogout={noop}>
        x
      </Shell>,
    )
    expect(count(html, 'nav-users')).toBe(0)
    expect(count(html, 'nav-agents')).toBe(0)
    expect(count(html, 'nav-feed')).toBe(1)
    expect(count(html, 'nav-credentials')).toBe(1)
    expect(text(html, 'whoami')).toBe('victor · viewer')
  })

  it('bootstrap is named as such; links are real links to the SPA paths', () => {
    const html = render(
      <Shell me={BOOTSTRAP_ME} path="/" onNavigate={noop} onLogout={noop}>
        x
      </Shell>,
    )
    expect(text(html, 'whoami')).toBe('bootstrap')
    expect(tagOf(html, 'nav-blocked')).toContain('href="/blocked"')
  })

  it('forbidden names the path', () => {
    expect(text(render(<Forbidden path="/users" />), 'forbidden')).toContain('/users')
  })
})

describe('login', () => {
  it('shows the API error in login-status and has a labelled token form', () => {
    const message = 'This login link has expired or was already used'
    const html = render(<LoginForm status={{ kind: 'error', message }} onSubmit={noop} />)
    expect(text(html, 'login-status')).toBe(message)
    expect(tagOf(html, 'login-status')).toContain('role="alert"')
    const input = tagOf(html, 'login-token-input') ?? ''
    expect(input).toContain('type="password"')
    const id = /id="([^"]+)"/.exec(input)?.[1]
    expect(html).toContain(`for="${id}"`)
    expect(tagOf(html, 'login-submit')).toMatch(/^<button[^>]*type="submit"/)
  })

  it.each([
    ['#t=abc-_123', 'abc-_123'],
    ['t=xyz', 'xyz'],
    ['#t=', null],
    ['', null],
    ['#x=1', null],
    ['#x=1&t=tok', 'tok'],
  ])('token from %j is %j', (hash, token) => {
    expect(tokenFromHash(hash)).toBe(token)
  })
})

describe('overview', () => {
  it('shows gate status, rates, p95, expiring credentials and both charts', () => {
    const html = render(<OverviewPanel data={overview()} />)
    expect(text(html, 'overview-gate-status')).toBe('running')
    expect(text(html, 'overview-req-rate')).toBe('0.04')
    expect(text(html, 'overview-block-rate')).toBe('25.0 %')
    expect(text(html, 'overview-p95')).toBe('42 ms')
    expect(count(html, 'expiring-item')).toBe(1)
    expect(text(html, 'expiring-item')).toContain('gh')
    expect(tagOf(html, 'chart-timeline')).toMatch(/^<svg/)
    expect(count(html, 'timeline-bucket')).toBe(60)
    expect(tagOf(html, 'chart-top-blocked')).toMatch(/^<svg/)
    expect(count(html, 'bar')).toBe(2)
    expect(text(html, 'chart-top-blocked')).toContain('domain_not_allowed')
  })

  it.each([
    ['sealed', { reachable: true, sealed: true, status: 'sealed' }],
    ['unreachable', { reachable: false, sealed: false, status: 'unreachable' }],
    ['unreachable', { reachable: false, sealed: true, status: 'unreachable' }],
    // A gate that answers 503 without being sealed is not running: its ledger is unwritable and
    // it refuses every request, or it is shutting down, or it said something unknown.
    ['ledger unavailable', { reachable: true, sealed: false, status: 'ledger_unavailable' }],
    ['sealed', { reachable: true, sealed: true, status: 'ledger_unavailable' }],
    ['draining', { reachable: true, sealed: false, status: 'draining' }],
    ['unavailable', { reachable: true, sealed: false, status: 'unavailable' }],
  ] as const)('gate status %s', (status, gate) => {
    const data = overview()
    const html = render(<OverviewPanel data={{ ...data, gate: { ...data.gate, ...gate } }} />)
    expect(text(html, 'overview-gate-status')).toBe(status)
  })

  it('says why expiring credentials are missing, and shows no p95 without data', () => {
    const data = overview({ expiring: null })
    const html = render(<OverviewPanel data={{ ...data, window: { ...data.window, p95Ms: null } }} />)
    expect(count(html, 'expiring-item')).toBe(0)
    expect(text(html, 'overview-expiring')).toContain('vault:read')
    expect(text(html, 'overview-p95')).toBe('—')
  })

  it('an empty window still draws the chart with a note', () => {
    const data = overview({ topBlocked: [] })
    const buckets = data.timeline.buckets.map((b) => ({ ...b, allowed: 0, blocked: 0, failed: 0 }))
    const html = render(<OverviewPanel data={{ ...data, timeline: { ...data.timeline, buckets } }} />)
    expect(text(html, 'timeline')).toContain('No requests in this window')
    expect(html).not.toContain('<rect x=')
    expect(text(html, 'chart-top-blocked')).toContain('Nothing blocked')
  })
})

describe('feed', () => {
  const rows = [
    entry(3, {
      decision: 'blocked',
      code: 'domain_not_allowed',
      status: 403,
      path: '/evil?token=SECRETVALUE#frag',
    }),
    entry(2, { decision: 'allowed', dryRun: 'scope_denied', channel: 'mcp' }),
    inflight(1),
  ]

  it('one row per entry with its id, badge, path without query, code, status and channel', () => {
    const html = render(<FeedTable rows={rows} selectedId={null} onOpen={noop} />)
    expect(count(html, 'feed-table')).toBe(1)
    expect(count(html, 'feed-row')).toBe(3)
    expect([...html.matchAll(/data-testid="feed-row" data-id="(\d+)"/g)].map((m) => m[1])).toEqual([
      '3',
      '2',
      '1',
    ])
    expect(text(html, 'decision-badge')).toBe('blocked')
    expect(html).toContain('/evil')
    expect(html).not.toContain('SECRETVALUE')
    expect(html).not.toContain('frag')
    expect(text(html, 'feed-code')).toBe('domain_not_allowed')
    expect(count(html, 'dry-run')).toBe(1)
    expect(html).toContain('>mcp<')
    // The time shows local time; its title carries the UTC ISO time.
    expect(html).toContain(`title="${rows[0]?.time}"`)
  })

  it('an empty feed keeps the table and says so', () => {
    const html = render(<FeedTable rows={[]} selectedId={null} onOpen={noop} />)
    expect(count(html, 'feed-table')).toBe(1)
    expect(count(html, 'feed-row')).toBe(0)
    expect(count(html, 'feed-empty')).toBe(1)
  })

  it(`renders the capped state: ${FEED_CAP} rows at most come from the state, all of them shown`, () => {
    const many = Array.from({ length: FEED_CAP }, (_, i) => entry(FEED_CAP - i))
    expect(count(render(<FeedTable rows={many} selectedId={null} onOpen={noop} />), 'feed-row')).toBe(
      FEED_CAP,
    )
  })

  it('the drawer shows the full entry with its requestId', () => {
    const html = render(<FeedDrawer entry={entry(7, { requestId: 'req-abc' })} onClose={noop} />)
    expect(count(html, 'feed-drawer')).toBe(1)
    expect(text(html, 'drawer-requestId')).toBe('req-abc')
    expect(text(html, 'drawer-targetHost')).toBe('api.github.com')
    expect(html).toContain('&quot;requestId&quot;: &quot;req-abc&quot;')
  })

  it('the drawer never shows a query either', () => {
    const html = render(<FeedDrawer entry={entry(8, { path: '/v1/x?api_key=SECRETVALUE' })} onClose={noop} />)
    expect(text(html, 'drawer-path')).toBe('/v1/x')
    expect(html).not.toContain('SECRETVALUE')
  })

  it.each([
    ['live', false, 0, 'Pause', 0],
    ['reconnecting', true, 0, 'Resume', 0],
    ['connecting', true, 3, 'Resume', 1],
  ] as const)('toolbar: %s, paused=%s, %i new', (live, paused, newCount, pauseText, newShown) => {
    const html = render(
      <FeedToolbar
        draft={EMPTY_FILTER}
        onDraft={noop}
        live={live}
        paused={paused}
        newCount={newCount}
        onPause={noop}
        onResume={noop}
      />,
    )
    expect(text(html, 'feed-live')).toBe(live)
    expect(text(html, 'feed-pause')).toBe(pauseText)
    expect(tagOf(html, 'feed-pause')).toMatch(/^<button/)
    expect(count(html, 'feed-new-count')).toBe(newShown)
    if (newShown) expect(text(html, 'feed-new-count')).toBe('3 new')
    for (const f of ['filter-service', 'filter-agent', 'filter-decision', 'filter-code', 'filter-since']) {
      const id = /id="([^"]+)"/.exec(tagOf(html, f) ?? '')?.[1]
      expect(id, f).toBeTruthy()
      expect(html, `${f} has a label`).toContain(`for="${id}"`)
    }
  })
})

describe('credentials', () => {
  const now = new Date('2026-12-06T07:00:00.000Z')
  it('lists metadata with expiry highlighting; remove only with vault:write', () => {
    const admin = render(
      <CredentialsTable list={CREDENTIALS} now={now} can={canOf(ADMIN.permissions)} onRemove={noop} />,
    )
    expect(count(admin, 'credential-row')).toBe(2)
    expect(count(admin, 'credential-remove')).toBe(2)
    expect(tagOf(admin, 'expiry')).toContain('data-level="soon"')
    expect(text(admin, 'expiry')).toContain('in 2 d')
    expect(admin).toContain('header X-Api-Key')
    const viewer = render(
      <CredentialsTable list={CREDENTIALS} now={now} can={canOf(VIEWER.permissions)} onRemove={noop} />,
    )
    expect(count(viewer, 'credentials-table')).toBe(1)
    expect(count(viewer, 'credential-remove')).toBe(0)
    const operator = render(
      <CredentialsTable list={CREDENTIALS} now={now} can={canOf(OPERATOR.permissions)} onRemove={noop} />,
    )
    expect(count(operator, 'credential-remove')).toBe(0)
  })

  it('an expired credential says so', () => {
    const later = new Date('2027-01-01T00:00:00.000Z')
    const html = render(<CredentialsTable list={CREDENTIALS} now={later} can={canOf([])} onRemove={noop} />)
    expect(tagOf(html, 'expiry')).toContain('data-level="expired"')
    expect(text(html, 'expiry')).toContain('expired')
  })

  it('an empty vault keeps the table and says how to add one', () => {
    const html = render(
      <CredentialsTable list={{ vault: 'v2', items: [] }} now={now} can={canOf([])} onRemove={noop} />,
    )
    expect(count(html, 'credentials-table')).toBe(1)
    expect(text(html, 'empty')).toContain('aegis vault add')
  })
})

describe('agents', () => {
  const actions = { onRevoke: noop, onRateLimit: noop, onRemove: noop }
  it('grants and limits; revoke per grant and remove for roles with agent:write', () => {
    const html = render(<AgentsTable items={AGENTS} can={canOf(OPERATOR.permissions)} actions={actions} />)
    expect(count(html, 'agent-row')).toBe(1)
    expect(count(html, 'agent-grant')).toBe(2)
    expect(count(html, 'agent-revoke')).toBe(2)
    expect(count(html, 'agent-remove')).toBe(1)
    expect(html).toContain('60/min')
    expect(html).toContain('aria-label="Revoke gh from coder"')
    const readOnly = render(<AgentsTable items={AGENTS} can={canOf(['agent:read'])} actions={actions} />)
    expect(
      count(readOnly, 'agent-revoke') + count(readOnly, 'agent-remove') + count(readOnly, 'agent-rate-limit'),
    ).toBe(0)
  })

  it('each dialog calls the matching API with what the operator entered', async () => {
    const api = {
      revokeGrant: vi.fn(async () => ({ changed: true })),
      setRateLimit: vi.fn(async () => AGENTS[0]),
      removeAgent: vi.fn(async () => undefined),
    } as unknown as Api
    const asks = agentAsks(api)
    const coder = AGENTS[0] as (typeof AGENTS)[number]
    await asks.revoke(coder, 'gh').run('')
    expect(api.revokeGrant).toHaveBeenCalledWith('coder', 'gh')
    await asks.rateLimit(coder).run(' 10/s ')
    expect(api.setRateLimit).toHaveBeenLastCalledWith('coder', '10/s')
    await asks.rateLimit(coder).run('None')
    expect(api.setRateLimit).toHaveBeenLastCalledWith('coder', null)
    await asks.rateLimit(coder).run('')
    expect(api.setRateLimit).toHaveBeenLastCalledWith('coder', null)
    expect(asks.rateLimit(coder).input?.initial).toBe('60/min')
    await asks.remove(coder).run('')
    expect(api.removeAgent).toHaveBeenCalledWith('coder')
    expect(asks.remove(coder).danger).toBe(true)
  })
})

describe('users', () => {
  it("role, created, changed, the token's last use (never when null); write buttons only with user:write", () => {
    const html = render(
      <UsersTable
        items={USERS}
        actor={ADMIN.actor}
        can={canOf(ADMIN.permissions)}
        onRole={noop}
        onRemove={noop}
      />,
    )
    expect(count(html, 'user-row')).toBe(2)
    expect(count(html, 'user-role')).toBe(2)
    expect(count(html, 'user-remove')).toBe(2)
    expect(text(html, 'user-row')).toContain('(you)')
    expect(html).toContain('Changed')
    expect(text(html, 'user-row')).toContain(localDateTime(USERS[0]?.updatedAt))
    expect(html).toContain('Last used')
    expect(text(html, 'user-last-used')).toContain(localDateTime(USERS[0]?.lastUsedAt ?? ''))
    expect(html).toMatch(/data-testid="user-last-used"[^>]*>never</)
    const op = render(
      <UsersTable
        items={USERS}
        actor={OPERATOR.actor}
        can={canOf(OPERATOR.permissions)}
        onRole={noop}
        onRemove={noop}
      />,
    )
    expect(count(op, 'user-role') + count(op, 'user-remove')).toBe(0)
  })

  it('the role dialog offers the three roles and sends the choice', async () => {
    const api = {
      setRole: vi.fn(async () => undefined),
      removeUser: vi.fn(async () => undefined),
    } as unknown as Api
    const bob = {
      name: 'bob',
      role: 'viewer' as const,
      createdAt: '2026-11-01T00:00:00.000Z',
      updatedAt: '2026-11-01T00:00:00.000Z',
      lastUsedAt: null,
    }
    const ask = userAsks(api).role(bob)
    expect(ask.input).toMatchObject({
      kind: 'select',
      initial: 'viewer',
      options: ['admin', 'operator', 'viewer'],
    })
    await ask.run('operator')
    expect(api.setRole).toHaveBeenCalledWith('bob', 'operator')
    await userAsks(api).remove(bob).run('')
    expect(api.removeUser).toHaveBeenCalledWith('bob')
  })
})

describe('blocked', () => {
  it('groups by code and agent with counts and last seen, and a bar per code', () => {
    const html = render(<BlockedPanel report={BLOCKED} />)
    expect(count(html, 'blocked-table')).toBe(1)
    expect(count(html, 'blocked-row')).toBe(3)
    expect(text(html, 'blocked-row')).toContain('domain_not_allowed')
    expect(html).toContain('unknown agent')
    expect(tagOf(html, 'chart-blocked-codes')).toMatch(/^<svg/)
    expect(count(html, 'bar')).toBe(2)
  })

  it('topCodes sums over agents, largest first', () => {
    expect(topCodes(BLOCKED)).toEqual([
      { label: 'domain_not_allowed', value: 7 },
      { label: 'rate_limited', value: 2 },
    ])
  })

  it('an empty period says so', () => {
    const html = render(<BlockedPanel report={{ since: BLOCKED.since, total: 0, groups: [] }} />)
    expect(count(html, 'blocked-row')).toBe(0)
    expect(text(html, 'empty')).toContain('Nothing was blocked')
  })
})

describe('confirm dialog', () => {
  it('is a modal form with the safe choice focused and the API error shown', () => {
    const html = render(
      <ConfirmDialog
        request={{ title: 'Remove user bob?', body: 'Sure?', confirmLabel: 'Remove', danger: true }}
        busy={false}
        error="The last admin cannot be removed"
        onConfirm={noop}
        onCancel={noop}
      />,
    )
    expect(tagOf(html, 'confirm-dialog')).toContain('aria-modal="true"')
    expect(text(html, 'confirm-error')).toBe('The last admin cannot be removed')
    expect(text(html, 'confirm-ok')).toBe('Remove')
  })
})

describe('error boundary', () => {
  it('a view that throws shows its message, not a blank page', () => {
    const boundary = new ErrorBoundary({ children: 'fine' })
    boundary.state = ErrorBoundary.getDerivedStateFromError(
      new TypeError("Cannot read properties of undefined (reading 'map')"),
    )
    const html = render(boundary.render() as ReactElement)
    expect(text(html, 'error')).toContain(
      "This view failed to render: Cannot read properties of undefined (reading 'map')",
    )
    expect(html).toContain('Try again')
  })
})

describe('CSP', () => {
  // style-src falls back to default-src 'self': an inline style attribute would be refused.
  it('no rendered view uses an inline style attribute or an inline handler', () => {
    expect(rendered.length).toBeGreaterThan(10)
    for (const html of rendered) {
      expect(html).not.toMatch(/\sstyle="/)
      expect(html).not.toMatch(/\son[a-z]+="/)
    }
  })
})
