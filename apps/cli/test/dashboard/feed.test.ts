// The feed's timers and limits with a fake clock and fake sockets (the real-socket behaviour is in
// server.test.ts): heartbeat, slow-client drop, completion re-send, the in-flight window.
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Ledger, openLedger, sqliteLedgerStore } from '@aegis/ledger'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { WebSocket } from 'ws'
import { LedgerFeed, MAX_BUFFERED, PING_MS, SESSION_ENDED, TAIL_MS } from '../../src/dashboard/feed.js'
import { Sessions } from '../../src/dashboard/session.js'

class FakeSocket extends EventEmitter {
  readonly OPEN = 1
  readyState = 1
  bufferedAmount = 0
  sent: { type: string; entry: { id: number; durationMs: number | null } }[] = []
  pings = 0
  terminated = false
  send(text: string) {
    this.sent.push(JSON.parse(text))
  }
  ping() {
    this.pings++
  }
  terminate() {
    this.terminated = true
    this.readyState = 3
    this.emit('close')
  }
  closedWith: number | undefined
  close(code?: number) {
    this.closedWith = code
    this.terminate()
  }
}

const logger = { info: () => {}, warn: () => {}, error: () => {} }
const allowAll = async () => true
/** A session's id and key as the feed keeps them (only the feed's authorizer reads them here). */
const proofOf = (id: string) => ({ id, key: `${id}-key` })
const session = proofOf('session')

let dir: string
let ledger: Ledger
let feed: LedgerFeed

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
  dir = mkdtempSync(join(tmpdir(), 'aegis-feed-'))
  ledger = openLedger({ file: join(dir, 'ledger.db') })
})

afterEach(async () => {
  feed?.close()
  await ledger.close()
  rmSync(dir, { recursive: true, force: true })
  vi.useRealTimers()
})

const request = (path: string) =>
  ledger.append({ requestId: path, channel: 'gate', method: 'GET', path, decision: 'allowed' })

describe('LedgerFeed', () => {
  it('pings every 30 s and terminates a socket that missed the last pong', async () => {
    feed = new LedgerFeed(sqliteLedgerStore(ledger), logger, allowAll)
    feed.start()
    const answering = new FakeSocket()
    const silent = new FakeSocket()
    feed.add(answering as unknown as WebSocket, session)
    feed.add(silent as unknown as WebSocket, session)
    await vi.advanceTimersByTimeAsync(PING_MS)
    expect([answering.pings, silent.pings]).toEqual([1, 1])
    answering.emit('pong')
    await vi.advanceTimersByTimeAsync(PING_MS)
    expect([answering.terminated, silent.terminated]).toEqual([false, true])
    expect(answering.pings).toBe(2)
    expect(feed.size).toBe(1)
  })

  it('sends only entries written after it started, again when they complete, and drops a socket over 1 MiB', async () => {
    await request('/before')
    feed = new LedgerFeed(sqliteLedgerStore(ledger), logger, allowAll)
    feed.start()
    const reader = new FakeSocket()
    const stalled = new FakeSocket()
    feed.add(reader as unknown as WebSocket, session)
    feed.add(stalled as unknown as WebSocket, session)
    const id = await request('/live')
    await vi.advanceTimersByTimeAsync(TAIL_MS)
    expect(reader.sent.map((m) => [m.type, m.entry.id, m.entry.durationMs])).toEqual([['entry', id, null]])
    ledger.complete(id, { durationMs: 7, bytesIn: 0, bytesOut: 3, status: 200 })
    await ledger.flush()
    stalled.bufferedAmount = MAX_BUFFERED + 1
    await vi.advanceTimersByTimeAsync(TAIL_MS)
    expect(reader.sent.map((m) => [m.entry.id, m.entry.durationMs])).toEqual([
      [id, null],
      [id, 7],
    ])
    expect(stalled.terminated).toBe(true)
    expect(stalled.sent).toHaveLength(1)
    // Completed: not sent a third time.
    await vi.advanceTimersByTimeAsync(TAIL_MS * 4)
    expect(reader.sent).toHaveLength(2)
  })

  it('stops re-reading an entry that never completes after 60 s', async () => {
    feed = new LedgerFeed(sqliteLedgerStore(ledger), logger, allowAll)
    feed.start()
    const reader = new FakeSocket()
    feed.add(reader as unknown as WebSocket, session)
    const id = await request('/stuck')
    await vi.advanceTimersByTimeAsync(TAIL_MS)
    await vi.advanceTimersByTimeAsync(61_000)
    ledger.complete(id, { durationMs: 99_000, bytesIn: 0, bytesOut: 0 })
    await ledger.flush()
    await vi.advanceTimersByTimeAsync(TAIL_MS * 2)
    expect(reader.sent.map((m) => m.entry.durationMs)).toEqual([null])
  })

  it('asks each session again before a batch: a refused or failing one is closed (1008) and sent nothing', async () => {
    const live = new Set(['kept', 'ended'])
    const asked: string[] = []
    feed = new LedgerFeed(sqliteLedgerStore(ledger), logger, async ({ id }) => {
      asked.push(id)
      if (id === 'failing') throw new Error('user store unavailable')
      return live.has(id)
    })
    feed.start()
    await vi.advanceTimersByTimeAsync(TAIL_MS)
    const kept = new FakeSocket()
    const keptTwice = new FakeSocket()
    const ended = new FakeSocket()
    const failing = new FakeSocket()
    feed.add(kept as unknown as WebSocket, proofOf('kept'))
    feed.add(keptTwice as unknown as WebSocket, proofOf('kept'))
    feed.add(ended as unknown as WebSocket, proofOf('ended'))
    feed.add(failing as unknown as WebSocket, proofOf('failing'))
    live.delete('ended')
    await request('/after-logout')
    await vi.advanceTimersByTimeAsync(TAIL_MS)
    expect([kept.sent.length, keptTwice.sent.length]).toEqual([1, 1])
    expect([ended.sent, failing.sent]).toEqual([[], []])
    expect([ended.closedWith, failing.closedWith, kept.closedWith]).toEqual([
      SESSION_ENDED,
      SESSION_ENDED,
      undefined,
    ])
    // One check per session, however many sockets it holds.
    expect(asked.filter((s) => s === 'kept')).toHaveLength(1)
    expect(feed.size).toBe(2)
    // Without traffic, the ping asks too: a session that ended is closed within a ping interval.
    live.delete('kept')
    await vi.advanceTimersByTimeAsync(PING_MS)
    expect([kept.closedWith, keptTwice.closedWith]).toEqual([SESSION_ENDED, SESSION_ENDED])
    expect(feed.size).toBe(0)
  })

  it('closes (1008) a quiet socket when its session lifetime ends, though the feed kept it in use', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] })
    // The real sessions on the faked clock; a lifetime shorter than a ping interval and a half.
    const sessions = new Sessions({ lifetimeMs: 40_000 })
    const proof = sessions.open({ userToken: undefined })
    feed = new LedgerFeed(sqliteLedgerStore(ledger), logger, async (asked) => sessions.get(asked) !== null)
    feed.start()
    const socket = new FakeSocket()
    feed.add(socket as unknown as WebSocket, proof, sessions.endsAt(proof.id))
    // Used all along (every check restarts the idle timer), and alive at the 30 s ping.
    await vi.advanceTimersByTimeAsync(30_000)
    socket.emit('pong')
    expect(socket.closedWith).toBeUndefined()
    await vi.advanceTimersByTimeAsync(9_000)
    expect(socket.closedWith).toBeUndefined()
    expect(sessions.get(proof)).not.toBeNull()
    // The lifetime ends at 40 s: closed then, not at the next ping (60 s); the session is gone.
    await vi.advanceTimersByTimeAsync(1_100)
    expect(socket.closedWith).toBe(SESSION_ENDED)
    expect(feed.size).toBe(0)
    expect(sessions.get(proof)).toBeNull()
  })
})
