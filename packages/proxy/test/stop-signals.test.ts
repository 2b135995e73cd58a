import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { StopSignals } from '../src/internal.js'

function setup() {
  const source = new EventEmitter()
  const early: string[] = []
  const forced: string[] = []
  const signals = new StopSignals({
    source,
    early: (s) => early.push(s),
    force: (s) => forced.push(s),
  })
  return { source, early, forced, signals }
}

describe('StopSignals', () => {
  it('keeps a signal that came during the start and answers it once started', async () => {
    const { source, early, forced, signals } = setup()
    source.emit('SIGTERM', 'SIGTERM')
    expect(early).toEqual(['SIGTERM'])
    const heard: string[] = []
    await expect(signals.started((s) => heard.push(s))).resolves.toBe('SIGTERM')
    expect(heard).toEqual(['SIGTERM'])
    expect(forced).toEqual([])
  })

  it('a second signal during the start is forced; after the start it is ignored', async () => {
    const a = setup()
    a.source.emit('SIGINT', 'SIGINT')
    a.source.emit('SIGINT', 'SIGINT')
    expect(a.forced).toEqual(['SIGINT'])

    const b = setup()
    const stopped = b.signals.started()
    b.source.emit('SIGINT', 'SIGINT')
    b.source.emit('SIGTERM', 'SIGTERM')
    await expect(stopped).resolves.toBe('SIGINT')
    expect(b.early).toEqual([])
    expect(b.forced).toEqual([])
  })

  it('dispose takes its listeners off', () => {
    const { source, signals } = setup()
    expect(source.listenerCount('SIGINT')).toBe(1)
    expect(source.listenerCount('SIGTERM')).toBe(1)
    signals.dispose()
    expect(source.listenerCount('SIGINT')).toBe(0)
    expect(source.listenerCount('SIGTERM')).toBe(0)
  })
})
