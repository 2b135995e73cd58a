import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { startRelay } from '../../../test-support/tcp-relay.js'
import { type ChangeEvent, ChangeFeed, migrate, openPool } from '../src/index.js'
import { type ScratchDatabase, scratchDatabase } from '../src/testing.js'
import { until, WIDGETS } from './helpers.js'

const adminUrl = pgTestUrl('@aegis/pg change feed')

describe.skipIf(adminUrl === undefined)('ChangeFeed on a real PostgreSQL', () => {
  let scratch: ScratchDatabase
  let pool: pg.Pool
  let feed: ChangeFeed | undefined
  const errors: Error[] = []

  beforeAll(async () => {
    scratch = await scratchDatabase(adminUrl as string)
    pool = openPool({ url: scratch.url, max: 4 })
    await migrate(pool, [WIDGETS])
  })
  afterEach(async () => {
    await feed?.close()
    feed = undefined
    errors.length = 0
  })
  afterAll(async () => {
    await pool?.end()
    await scratch?.drop()
  })

  async function startFeed(pollIntervalMs = 60_000): Promise<ChangeEvent[]> {
    const events: ChangeEvent[] = []
    feed = new ChangeFeed(pool, {
      url: scratch.url,
      pollIntervalMs,
      minBackoffMs: 20,
      maxBackoffMs: 200,
      onEvent: (event) => events.push(event),
      onError: (error) => errors.push(error),
    })
    await feed.start()
    return events
  }

  async function killListener(): Promise<number> {
    const killed = await pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'aegis-changes' AND datname = current_database()",
    )
    return killed.rowCount ?? 0
  }

  it('asks for a full reload on connect, then announces each committed change once, topic and version only', async () => {
    const events = await startFeed()
    expect(events).toEqual([{ kind: 'reload', reason: 'connect' }])
    await pool.query("INSERT INTO aegis.widgets VALUES ('a'), ('b')")
    await pool.query("DELETE FROM aegis.widgets WHERE name = 'a'")
    await until(() => events.length === 3, 2000, 'two change events')
    const changes = events.slice(1)
    expect(changes).toEqual([
      { kind: 'change', topic: 'widgets', version: expect.stringMatching(/^\d+$/) },
      { kind: 'change', topic: 'widgets', version: expect.stringMatching(/^\d+$/) },
    ])
    const [first, second] = changes as Array<{ version: string }>
    expect(BigInt(second?.version ?? 0)).toBe(BigInt(first?.version ?? 0) + 1n)
    // The payload never carries row data: it is exactly {topic, version}.
    expect(JSON.stringify(events)).not.toContain('"a"')
  })

  it('announces nothing for a rolled-back transaction', async () => {
    const events = await startFeed()
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query("INSERT INTO aegis.widgets VALUES ('rolled-back')")
      await client.query('ROLLBACK')
    } finally {
      client.release()
    }
    await pool.query("INSERT INTO aegis.widgets VALUES ('committed')")
    await until(() => events.length === 2, 2000, 'the committed change')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(events.filter((e) => e.kind === 'change')).toHaveLength(1)
  })

  it('reconnects by itself after its connection is killed, and asks for a reload (changes meanwhile are not replayed)', async () => {
    const events = await startFeed()
    expect(await killListener()).toBe(1)
    await until(() => feed?.connected === false, 2000, 'the feed to notice')
    // A change while the listener is down: no notification will ever arrive for it.
    await pool.query("INSERT INTO aegis.widgets VALUES ('while-down')")
    await until(
      () => events.some((e) => e.kind === 'reload' && e.reason === 'reconnect'),
      3000,
      'a reconnect',
    )
    expect(feed?.connected).toBe(true)
    expect(errors.length).toBeGreaterThan(0)
    // And it listens again.
    const before = events.length
    await pool.query("INSERT INTO aegis.widgets VALUES ('after')")
    await until(() => events.length > before, 2000, 'a change after the reconnect')
    expect(events.at(-1)).toMatchObject({ kind: 'change', topic: 'widgets' })
  })

  it('the polling safety net catches a version no notification announced', async () => {
    const events = await startFeed(100)
    // Bumping the version directly sends no NOTIFY: only the poll can see it.
    await pool.query("UPDATE aegis.aegis_versions SET version = version + 1 WHERE topic = 'widgets'")
    await until(() => events.some((e) => e.kind === 'reload' && e.reason === 'poll'), 2000, 'a poll reload')
    // Once caught up, the poll stays quiet.
    const count = events.length
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect(events.length).toBe(count)
  })

  it('keeps trying while the server refuses connections and recovers when it answers', async () => {
    const events = await startFeed()
    // Forbid new connections to this database, kill the listener: reconnects fail until allowed.
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    const name = new URL(scratch.url).pathname.slice(1)
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
      await killListener()
      await new Promise((resolve) => setTimeout(resolve, 400))
      expect(feed?.connected).toBe(false)
      const failures = errors.length
      expect(failures).toBeGreaterThan(1)
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
      await admin.end()
    }
    await until(() => feed?.connected === true, 3000, 'the feed to come back')
    expect(events.at(-1)).toEqual({ kind: 'reload', reason: 'reconnect' })
  })

  it('after a long outage it listens again (and asks for a reload) within about a second of the server answering', async () => {
    // The defaults, as a gate runs them: the delay between attempts must not outgrow the promise
    // that a change (a revocation) reaches every gate within a second.
    const events: ChangeEvent[] = []
    feed = new ChangeFeed(pool, {
      url: scratch.url,
      pollIntervalMs: 60_000,
      onEvent: (event) => events.push(event),
      onError: (error) => errors.push(error),
    })
    await feed.start()
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    const name = new URL(scratch.url).pathname.slice(1)
    let back = 0
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
      await killListener()
      // Long enough for doubling delays from 100 ms to pass several seconds.
      await new Promise((resolve) => setTimeout(resolve, 6500))
      expect(feed.connected).toBe(false)
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
      back = Date.now()
      await admin.end()
    }
    await until(() => feed?.connected === true, 8000, 'the feed to come back')
    expect(Date.now() - back).toBeLessThan(1500)
    expect(events.at(-1)).toEqual({ kind: 'reload', reason: 'reconnect' })
  }, 20_000)

  it('a listener behind a dead connection is replaced once a poll finds a change it missed, so later changes are announced again', async () => {
    const relay = await startRelay(scratch.url)
    try {
      const events: ChangeEvent[] = []
      feed = new ChangeFeed(pool, {
        url: relay.url,
        pollIntervalMs: 300,
        minBackoffMs: 20,
        maxBackoffMs: 200,
        onEvent: (event) => events.push(event),
        onError: (error) => errors.push(error),
      })
      await feed.start()
      // The path to the server dies without a word: the connection still looks open.
      relay.freeze()
      await pool.query("INSERT INTO aegis.widgets VALUES ('unannounced')")
      await until(
        () => events.some((e) => e.kind === 'reload' && e.reason === 'poll'),
        3000,
        'the poll to catch the missed change',
      )
      await until(
        () => events.some((e) => e.kind === 'reload' && e.reason === 'reconnect'),
        3000,
        'the dead listener to be replaced',
      )
      const from = events.length
      await pool.query("INSERT INTO aegis.widgets VALUES ('announced')")
      await until(
        () => events.slice(from).some((e) => e.kind === 'change' && e.topic === 'widgets'),
        1000,
        'the next change to be announced, not polled',
      )
    } finally {
      await feed?.close()
      feed = undefined
      await relay.close()
    }
  })

  it('close() returns even when the connection died without a word (a gate stopping must not hang on it)', async () => {
    const relay = await startRelay(scratch.url)
    try {
      const dying = new ChangeFeed(pool, { url: relay.url, pollIntervalMs: 60_000, onEvent: () => {} })
      await dying.start()
      relay.freeze()
      const started = Date.now()
      const closed = await Promise.race([
        dying.close().then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 4000)),
      ])
      expect(closed).toBe(true)
      expect(Date.now() - started).toBeLessThan(2000)
    } finally {
      await relay.close()
    }
  })

  it('start() rejects when the database cannot be reached, and close() is quiet', async () => {
    const bad = new URL(scratch.url)
    bad.pathname = '/aegis_no_such_database'
    const lonely = new ChangeFeed(pool, { url: bad.toString(), onEvent: () => {} })
    await expect(lonely.start()).rejects.toThrow(/does not exist/)
    await lonely.close()
  })
})
