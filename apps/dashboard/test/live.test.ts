import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { LedgerEntry } from '../src/api/types.js'
import {
  backoffDelay,
  LiveFeed,
  type LiveStatus,
  parseMessage,
  type SocketLike,
  wsUrl,
} from '../src/feed/live.js'
import { entry } from './fixtures.js'

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  onerror: SocketLike['onerror'] = null
  closed = false
  constructor(
    readonly url: string,
    readonly protocols: string[] = [],
  ) {}
  close(): void {
    if (this.closed) return
    this.closed = true
    this.onclose?.({})
  }
  open(): void {
    this.onopen?.({})
  }
  send(e: LedgerEntry): void {
    this.onmessage?.({ data: JSON.stringify({ type: 'entry', entry: e }) })
  }
  drop(): void {
    this.closed = true
    this.onclose?.({})
  }
}

function harness(catchUpImpl: () => Promise<void> = async () => {}, protocols?: () => string[]) {
  const sockets: FakeSocket[] = []
  const statuses: LiveStatus[] = []
  const received: number[][] = []
  const catchUp = vi.fn(catchUpImpl)
  const feed = new LiveFeed({
    url: 'ws://127.0.0.1:3200/ws',
    ...(protocols ? { protocols } : {}),
    connect: (url, offered) => {
      const s = new FakeSocket(url, offered)
      sockets.push(s)
      return s
    },
    catchUp,
    onEntries: (entries) => received.push(entries.map((e) => e.id)),
    onStatus: (s) => statuses.push(s),
  })
  return { feed, sockets, statuses, received, catchUp }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('LiveFeed', () => {
  it('catches up first, then goes live and passes messages on in batches', async () => {
    const h = harness()
    h.feed.start()
    expect(h.statuses).toEqual(['connecting'])
    h.sockets[0]?.open()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.catchUp).toHaveBeenCalledTimes(1)
    expect(h.statuses.at(-1)).toBe('live')
    h.sockets[0]?.send(entry(5))
    h.sockets[0]?.send(entry(6))
    expect(h.received).toEqual([])
    await vi.advanceTimersByTimeAsync(100)
    expect(h.received).toEqual([[5, 6]])
    h.feed.stop()
  })

  it('holds messages that arrive during the catch-up until it is done', async () => {
    let finish: () => void = () => {}
    const h = harness(() => new Promise<void>((resolve) => (finish = resolve)))
    h.feed.start()
    h.sockets[0]?.open()
    h.sockets[0]?.send(entry(9))
    await vi.advanceTimersByTimeAsync(500)
    expect(h.received).toEqual([])
    expect(h.statuses.at(-1)).toBe('connecting')
    finish()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.received).toEqual([[9]])
    expect(h.statuses.at(-1)).toBe('live')
    h.feed.stop()
  })

  it('reconnects with backoff 1 s, 2 s, 4 s ... 10 s and catches up again each time', async () => {
    const h = harness()
    h.feed.start()
    h.sockets[0]?.drop() // never opened
    expect(h.statuses).toEqual(['connecting', 'reconnecting'])
    await vi.advanceTimersByTimeAsync(999)
    expect(h.sockets).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.sockets).toHaveLength(2)
    h.sockets[1]?.drop()
    await vi.advanceTimersByTimeAsync(1999)
    expect(h.sockets).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.sockets).toHaveLength(3)
    // A good connection resets the backoff.
    h.sockets[2]?.open()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.statuses.at(-1)).toBe('live')
    h.sockets[2]?.drop()
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.sockets).toHaveLength(4)
    h.sockets[3]?.open()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.catchUp).toHaveBeenCalledTimes(2)
    h.feed.stop()
  })

  it('offers the session key at every (re)connect, as it is then (a new login between two connects)', async () => {
    let key = 'first'
    const h = harness(
      async () => {},
      () => ['aegis.v1', `aegis-key.${key}`],
    )
    h.feed.start()
    expect(h.sockets[0]?.protocols).toEqual(['aegis.v1', 'aegis-key.first'])
    key = 'second'
    h.sockets[0]?.drop()
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.sockets[1]?.protocols).toEqual(['aegis.v1', 'aegis-key.second'])
    h.feed.stop()
  })

  it('a failed catch-up closes the socket and retries later', async () => {
    const h = harness(async () => {
      throw new Error('503')
    })
    h.feed.start()
    h.sockets[0]?.open()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.sockets[0]?.closed).toBe(true)
    expect(h.statuses.at(-1)).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.sockets).toHaveLength(2)
    h.feed.stop()
  })

  it('stop closes the socket and nothing reconnects or is delivered afterwards', async () => {
    const h = harness()
    h.feed.start()
    h.sockets[0]?.open()
    await vi.advanceTimersByTimeAsync(0)
    h.sockets[0]?.send(entry(1))
    h.feed.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(h.sockets).toHaveLength(1)
    expect(h.sockets[0]?.closed).toBe(true)
    expect(h.received).toEqual([])
  })

  it('ignores messages that are not entry messages', async () => {
    const h = harness()
    h.feed.start()
    h.sockets[0]?.open()
    await vi.advanceTimersByTimeAsync(0)
    for (const data of ['nope', '{"type":"hello"}', JSON.stringify({ type: 'entry', entry: { id: -1 } })]) {
      h.sockets[0]?.onmessage?.({ data })
    }
    await vi.advanceTimersByTimeAsync(200)
    expect(h.received).toEqual([])
    h.feed.stop()
  })
})

describe('backoffDelay', () => {
  it.each([
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [3, 8000],
    [4, 10_000],
    [50, 10_000],
  ])('attempt %i waits %i ms', (attempt, ms) => {
    expect(backoffDelay(attempt)).toBe(ms)
  })
})

describe('parseMessage', () => {
  it.each([
    ['not JSON', 'x', null],
    ['binary', new ArrayBuffer(2), null],
    ['null', 'null', null],
    ['other type', JSON.stringify({ type: 'ping' }), null],
    [
      'id not an integer',
      JSON.stringify({ type: 'entry', entry: { id: 1.5, time: 't', decision: 'allowed' } }),
      null,
    ],
    [
      'id as string',
      JSON.stringify({ type: 'entry', entry: { id: '1', time: 't', decision: 'allowed' } }),
      null,
    ],
    ['no time', JSON.stringify({ type: 'entry', entry: { id: 1, decision: 'allowed' } }), null],
  ])('%s → null', (_name, data, expected) => {
    expect(parseMessage(data)).toBe(expected)
  })

  it('an entry message gives the entry', () => {
    expect(parseMessage(JSON.stringify({ type: 'entry', entry: entry(3) }))?.id).toBe(3)
  })
})

describe('wsUrl', () => {
  it('uses the page origin, ws or wss', () => {
    expect(wsUrl({ protocol: 'http:', host: '127.0.0.1:3200' })).toBe('ws://127.0.0.1:3200/ws')
    expect(wsUrl({ protocol: 'https:', host: 'aegis.localhost' })).toBe('wss://aegis.localhost/ws')
  })
})
