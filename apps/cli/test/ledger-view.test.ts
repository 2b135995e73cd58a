// ledger:read is a view, ledger:export the rest (the brief's permission table): a viewer sees the
// newest entries, in the CLI's table and the dashboard's feed, and cannot page out the whole ledger
// (a large --limit, cursors in /api/requests, entries by id).
import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Browser, type RunningDashboard, startDashboard } from './dashboard/helpers.js'
import { freePort } from './helpers/free-port.js'
import { initProject, type Project, parseJson, removeDir } from './helpers/run-cli.js'

const ENTRIES = 620
const VIEW = 500

let project: Project
let dash: RunningDashboard
const tokens: Record<string, string> = {}

beforeAll(async () => {
  project = await initProject()
  for (const role of ['admin', 'operator', 'viewer']) {
    const r = await project.run(['user', 'add', '--name', role, '--role', role, '--json'], {
      env: { AEGIS_USER_TOKEN: tokens.admin },
    })
    expect(r.code, r.stderr).toBe(0)
    tokens[role] = parseJson<{ token: string }>(r).token
  }
  const ledger = openLedger({ file: join(project.dataDir, 'ledger.db') })
  try {
    for (let i = 0; i < ENTRIES; i++) {
      await ledger.append({
        requestId: `seed-${i}`,
        channel: 'gate',
        method: 'GET',
        path: `/seed/${i}`,
        service: 'seed',
        decision: 'allowed',
        durationMs: 1,
      })
    }
  } finally {
    await ledger.close()
  }
  dash = await startDashboard(
    project.dir,
    ['--no-gate', '--gate-port', String(await freePort()), '--port', '0'],
    { ...project.env, AEGIS_USER_TOKEN: tokens.admin as string },
  )
}, 120_000)

afterAll(async () => {
  dash?.child.kill('SIGTERM')
  await dash?.exited
  if (project) removeDir(project.dir)
})

type Page = { items: { id: number }[]; hasMore: boolean }

async function as(role: string): Promise<Browser> {
  const browser = new Browser(dash.port)
  expect((await browser.login(tokens[role] as string)).status).toBe(200)
  return browser
}

describe('aegis ledger show', () => {
  const show = (role: string, args: string[]) =>
    project.run(['ledger', 'show', ...args], { env: { AEGIS_USER_TOKEN: tokens[role] } })

  it('a viewer sees the newest entries as a table or as JSON, up to the view; a larger --limit is an export', async () => {
    const table = await show('viewer', ['--limit', String(VIEW)])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout.trim().split('\n')).toHaveLength(VIEW + 1)
    const json = await show('viewer', ['--json', '--limit', String(VIEW)])
    expect(json.code, json.stderr).toBe(0)
    expect(parseJson<unknown[]>(json)).toHaveLength(VIEW)
    for (const args of [
      ['--limit', String(VIEW + 1)],
      ['--json', '--limit', String(VIEW + 1)],
    ]) {
      const bulk = await show('viewer', args)
      expect([bulk.code, bulk.stdout, bulk.stderr]).toEqual([
        1,
        '',
        `Error: Permission denied: viewer may not ledger:export (more than the newest ${VIEW} entries is an export) (an admin can change your role: aegis user role --name <you> --role <role>)\n`,
      ])
    }
  })

  it('an operator (ledger:export) gets every entry as JSON', async () => {
    const r = await show('operator', ['--json', '--limit', '100000'])
    expect(r.code, r.stderr).toBe(0)
    expect(parseJson<unknown[]>(r)).toHaveLength(ENTRIES)
  })
})

describe('the dashboard API', () => {
  it("a viewer's pages stay inside the newest entries: no cursor pages past them", async () => {
    const viewer = await as('viewer')
    const newest = (await viewer.get(`/api/requests?limit=${VIEW}`)).json() as Page
    expect(newest.items).toHaveLength(VIEW)
    expect(newest.hasMore).toBe(false)
    const floor = Math.min(...newest.items.map((e) => e.id))
    const back = (await viewer.get(`/api/requests?before=${floor}&limit=500`)).json() as Page
    expect(back).toEqual({ items: [], hasMore: false })
    // From the ledger's start, oldest first: it starts at the view's oldest entry instead.
    const fromStart = (await viewer.get('/api/requests?after=0&limit=10')).json() as Page
    expect(fromStart.items[0]?.id).toBe(floor)
    expect(fromStart.hasMore).toBe(true)
    // One entry by id, id after id: the newest are readable, older ones need ledger:export.
    expect((await viewer.get(`/api/requests/${floor}`)).status).toBe(200)
    const old = await viewer.get(`/api/requests/${floor - 1}`)
    expect(old.status).toBe(403)
    expect((old.json() as { error: { code: string } }).error.code).toBe('forbidden')
  })

  it('the feed (the newest page, then catching up after its last id) works for a viewer as before', async () => {
    const viewer = await as('viewer')
    const page = (await viewer.get('/api/requests?limit=100')).json() as Page
    expect(page.items).toHaveLength(100)
    expect(page.hasMore).toBe(true)
    const last = Math.max(...page.items.map((e) => e.id))
    expect((await viewer.get(`/api/requests?after=${last}`)).json()).toEqual({ items: [], hasMore: false })
  })

  it('an operator (ledger:export) pages through everything', async () => {
    const operator = await as('operator')
    const fromStart = (await operator.get('/api/requests?after=0&limit=10')).json() as Page
    expect(fromStart.items[0]?.id).toBe(1)
    let count = 0
    let before: number | undefined
    for (;;) {
      const page = (
        await operator.get(`/api/requests?limit=500${before === undefined ? '' : `&before=${before}`}`)
      ).json() as Page
      count += page.items.length
      if (!page.hasMore) break
      before = Math.min(...page.items.map((e) => e.id))
    }
    expect(count).toBe(ENTRIES)
    expect((await operator.get('/api/requests/1')).status).toBe(200)
  })
})
